#!/usr/bin/env bash
# Warn when a server the project starts would listen beyond this machine (MLflow has no auth).
# Loopback is only what surely is: localhost, ::1, [::1] and 127.d.d.d with each octet 0-255
# (no leading zeros); any other name, 127.evil.example included, gets the warning.
is_loopback() {
  case "$1" in
    localhost|::1|'[::1]') return 0 ;;
  esac
  local octet='(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])'
  [[ $1 =~ ^127\.$octet\.$octet\.$octet$ ]]
}

host="${1-127.0.0.1}"  # unset: the default; empty is not loopback (bind("") listens everywhere)
if ! is_loopback "$host"; then
  echo "warning: serving on ${host:-'' (an empty host)}: the MLflow server has no authentication; anyone who can reach this address can read and change your runs" >&2
fi

