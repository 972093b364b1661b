"""Advice: recommendation, pitfall rules, change control."""
