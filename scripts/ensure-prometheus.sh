#!/usr/bin/env bash
# `npm test`'s pretest: the Prometheus proof (test/e2e/prometheus.e2e-spec.ts) needs promtool and a real
# prometheus, from Debian's `prometheus` package. Installs it when missing and possible (root with apt-get);
# otherwise says how, and the proof fails with the same message.
command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "pretest: installing Debian's prometheus package (promtool + prometheus) for the metrics proof"
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null
  exit $?
fi
echo "pretest: promtool/prometheus missing; install Debian's 'prometheus' package or the metrics proof will fail" >&2
exit 0
