"""Models written by "a user" on emkit's public API only: templates for your own models."""
