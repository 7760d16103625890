"""``python -m ops.console``: the console on the host and port of the settings (127.0.0.1 by default)."""

import os

from ops.console.service import streamlit_command
from ops.settings import get_settings

if __name__ == "__main__":
    command = streamlit_command(get_settings())
    os.execv(command[0], list(command))
