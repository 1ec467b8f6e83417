#!/usr/bin/env bash
# scripts/setup.sh - installs the build and test dependencies of sqn from Debian's packages.
set -euo pipefail
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  build-essential cmake pkg-config flex bison zlib1g-dev libzip-dev libopenblas-dev libpng-dev libjpeg62-turbo-dev llvm-dev clang libclang-rt-14-dev >/dev/null
echo "sqn: build dependencies installed"
