"""What every console page shares: settings, the sidebar filters and the empty states."""

from __future__ import annotations

import getpass
from datetime import date, timedelta

import pandas as pd
import psycopg
import streamlit as st

from ops.console import data, queries
from ops.settings import Settings

ALL = "All marketplaces"


def settings() -> Settings:
    """Settings from the environment, as every Mercator process reads them."""
    return Settings()


def header(title: str, question: str) -> None:
    st.title(title)
    st.caption(question)


def missing(relation: str, why: str) -> None:
    """The empty state of a board whose table is not there yet."""
    st.warning(f"`{relation}` does not exist yet (or the analyst role may not read it): {why}")


def day_filter(key: str, days: list[date], label: str = "Day") -> date:
    """One day among ``days`` (default the latest) in the sidebar."""
    return st.sidebar.date_input(
        label, value=days[-1], min_value=days[0], max_value=days[-1], key=f"{key}_day"
    )


def range_filter(key: str, days: list[date], default_days: int, label: str = "Days") -> tuple[date, date]:
    """A first..last range within ``days`` (default the last ``default_days``) in the sidebar."""
    first = max(days[0], days[-1] - timedelta(days=default_days - 1))
    picked = st.sidebar.date_input(
        label, value=(first, days[-1]), min_value=days[0], max_value=days[-1], key=f"{key}_range"
    )
    if isinstance(picked, tuple | list):
        return (picked[0], picked[-1]) if picked else (first, days[-1])
    return picked, picked


def marketplace_filter(key: str, options: list[str], note: str | None = None) -> str | None:
    """A marketplace (None = all); ``note`` says when the page's table carries none."""
    picked = st.sidebar.selectbox(
        "Marketplace", [ALL, *options], key=f"{key}_marketplace", disabled=note is not None
    )
    if note:
        st.sidebar.caption(note)
    return None if picked == ALL else picked


def operator_name() -> str:
    """Who is working the console, recorded with each write beside the database login."""
    return st.sidebar.text_input("Operator", value=getpass.getuser(), key="operator_name").strip()


def board_days(
    conn: psycopg.Connection, relation: str, column: str, why: str, having: str = "true"
) -> list[date]:
    """The days a board can show; stops the page with an empty state that says why when there are none."""
    if not data.exists(conn, relation):
        missing(relation, why)
        st.stop()
    found = queries.days(conn, relation, column, having)
    if not found:
        st.info(f"`{relation}` has nothing to show yet: {why}")
        st.stop()
    return found


def day_board(
    conn: psycopg.Connection, key: str, relation: str, day_column: str, why: str, label: str = "Day"
) -> tuple[list[date], date, str | None]:
    """A board of one day: its days, the day picked and the marketplace picked (``marketplace_id``)."""
    days = board_days(conn, relation, day_column, why)
    day = day_filter(key, days, label)
    return days, day, marketplace_filter(key, queries.marketplaces(conn, relation, "marketplace_id"))


def nonempty(rows: pd.DataFrame, message: str) -> pd.DataFrame:
    """``rows``, or the page stops with ``message`` (why there is nothing to show)."""
    if rows.empty:
        st.info(message)
        st.stop()
    return rows


def narrowed(rows: pd.DataFrame, column: str, label: str, key: str) -> pd.DataFrame:
    """The rows whose ``column`` is among the values picked in a multiselect (all by default)."""
    options = sorted(rows[column].unique())
    picked = st.multiselect(label, options, default=options, key=key)
    return nonempty(rows[rows[column].isin(picked)], f"No {label.lower()} selected.")


def table(rows: pd.DataFrame) -> None:
    st.dataframe(rows, hide_index=True)


def where(day: date | tuple[date, date], marketplace: str | None) -> str:
    """'on 2025-08-19 in ATVPDKIKX0DER' for empty-state messages."""
    when = f"on {day}" if isinstance(day, date) else f"between {day[0]} and {day[1]}"
    return when + (f" in {marketplace}" if marketplace else "")


def thresholds(s: Settings) -> dict:
    return data.dbt_vars(str(s.dbt_project_dir))
