"""Lua scripting (EVAL, SCRIPT) and functions (FUNCTION, FCALL)."""
