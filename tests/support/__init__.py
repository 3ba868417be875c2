"""Helpers the tests share (factories, data, processes, services): no tests here."""
