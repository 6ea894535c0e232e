"""Tests of the Discord emulator itself."""
