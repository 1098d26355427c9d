#!/usr/bin/env bash
# Install the real programs the tests check our output with, when missing:
# etcd + etcdctl (a Go TLS server/client), Chromium (dashboard tests) and,
# if it installs cleanly, promtool (metrics). openssl and kubectl are on the
# machine already. Needs root (or sudo) and Debian's apt; otherwise it says
# what is missing and the tests that need it skip with a message.
set -u
need=()
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || need+=(etcd-client)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
if [ ${#need[@]} -gt 0 ] || ! command -v promtool >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo"
  if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ]; }; then
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq >/dev/null 2>&1 || true
    if [ ${#need[@]} -gt 0 ]; then
      echo "test-deps: installing ${need[*]}"
      $SUDO apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 || echo "test-deps: could not install ${need[*]}; tests needing them will skip"
    fi
    if ! command -v promtool >/dev/null 2>&1; then
      $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1 && echo "test-deps: installed prometheus (promtool)" || echo "test-deps: prometheus (promtool) not installed; the promtool check will skip"
    fi
  else
    echo "test-deps: missing ${need[*]:-nothing} and cannot apt-get install here; tests needing them will skip"
  fi
fi
exit 0
