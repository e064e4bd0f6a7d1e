#!/usr/bin/env bash
# Warn when a server the project starts would listen beyond this machine (MLflow has no auth).
case "${1:-127.0.0.1}" in
  127.*|localhost|::1|\[::1\]) ;;
  *) echo "warning: serving on $1: the MLflow server has no authentication; anyone who can reach this address can read and change your runs" >&2 ;;
esac
