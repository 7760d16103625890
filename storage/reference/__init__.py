"""Reference data versioned with the code (rates, calendars) and loaded into the warehouse."""
