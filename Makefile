# make run / make test on a fresh Debian 12 machine (as root or with sudo). The real work is in
# scripts/; build/ is CMake + Ninja.
.PHONY: setup build run test clean

setup:
	scripts/setup.sh

build: setup
	cmake --build build -j2

run: build
	scripts/run.sh

test: build
	scripts/test.sh

clean:
	rm -rf build
