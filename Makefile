# make run / make test on a fresh Debian 12 machine (as root or with sudo). The real work is in
# scripts/; build/ is CMake + Ninja. make test lints first (scripts/lint.sh: no include into another
# module's internal/ folder, docs/invariants.md names real tests, clang-tidy on the files changed
# since the base), then runs every test. make sanitize builds and tests in build-sanitize/ with
# ASan and UBSan (scripts/sanitize.sh); fuzzing is scripts/fuzz.sh SECONDS (build-fuzz/). make
# package builds the Debian package build/tginvite_<version>_amd64.deb (cmake/Package.cmake,
# packaging/).
.PHONY: setup build run test sanitize package clean

setup:
	scripts/setup.sh

build: setup
	cmake --build build -j2

run: build
	scripts/run.sh

test: build
	scripts/lint.sh
	scripts/test.sh

sanitize:
	scripts/sanitize.sh

package: setup
	cmake --build build -j2 --target deb

clean:
	rm -rf build
