#!/usr/bin/env bash
# npm run bench:web — placeholder until the web pages it would measure exist.
echo "bench:web: not yet available (the web pages are still being built)"
