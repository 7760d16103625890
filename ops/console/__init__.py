"""The operator console: a Streamlit app over the marts (read as ``analyst``) and its two writes."""
