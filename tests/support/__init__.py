"""Modules the tests share: functions to differentiate, case tables, strategies, doubles."""
