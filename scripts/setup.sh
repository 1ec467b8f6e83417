#!/usr/bin/env bash
# scripts/setup.sh [--test] - installs the build dependencies of sqn from Debian's packages; with --test
# also what the tests check against (PyTorch, ONNX, OpenCV, Chromium: about 200 MB more).
set -euo pipefail
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  build-essential cmake pkg-config flex bison zlib1g-dev libzip-dev libopenblas-dev libpng-dev libjpeg62-turbo-dev llvm-dev clang libclang-rt-14-dev \
  libprotobuf-c-dev protobuf-c-compiler libopenmpi-dev openmpi-bin >/dev/null
# The independent checkers the tests run where they are installed (each test skips, visibly, without its
# package): PyTorch (the upstream model, .pth round trips), ONNX and OpenCV (exported networks), Chromium
# (the HTML report, headless).
[ "${1:-}" = --test ] || { echo "sqn: build dependencies installed"; exit 0; }
$SUDO apt-get install -y -qq --no-install-recommends python3-numpy python3-torch python3-onnx python3-opencv chromium >/dev/null
echo "sqn: build and test dependencies installed"
