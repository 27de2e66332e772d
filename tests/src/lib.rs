//! Shared set-up for the integration tests: the emulator endpoint and fresh resource names.
