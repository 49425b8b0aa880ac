"""Reads the terminal when imported (stdin is closed for validate: EOFError, not a hang)."""

ANSWER = input("continue? ")
