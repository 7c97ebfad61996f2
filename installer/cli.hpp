#pragma once

namespace goinstall::cli {

// Runs goinstall with the process's arguments; returns the exit code.
int run(int argc, char** argv);

} // namespace goinstall::cli
