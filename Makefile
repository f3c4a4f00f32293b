# The two entry points of the README. Each installs missing Debian packages,
# configures and builds kiln, then runs the demo or the whole test suite.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)

.PHONY: deps build demo test clean

deps:
	scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD_DIR) -j $(JOBS) --target kiln

demo: build
	scripts/demo.sh $(BUILD_DIR)/kiln

# The demo needs only the kiln binary; the tests need every test program.
test: build
	cmake --build $(BUILD_DIR) -j $(JOBS)
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

clean:
	rm -rf $(BUILD_DIR)
