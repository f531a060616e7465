"""The archive application: settings, models, services, web and CLI front ends."""
