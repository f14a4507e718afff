#!/bin/sh
# Installs what the browser tests need: Debian's chromium and a CJK font (so Chinese renders).
# Playwright's own browser download is never used. Without root (a student's laptop) nothing is
# installed and the browser tests skip with a visible reason; under CI (CI=true) a missing browser
# makes them fail instead.
if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "wenquanyi"; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing chromium, chromium-driver and fonts-wqy-microhei with apt-get"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-wqy-microhei >/dev/null
else
  echo "note: /usr/bin/chromium is missing and this user cannot apt-get install it; browser tests will be skipped"
fi
exit 0
