"""Deployment: the nginx site, systemd unit and the one-command local stack (deploy/stack.py)."""
