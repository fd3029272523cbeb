"""Measures are looked up in the admin through their project (no admin of their own yet)."""
