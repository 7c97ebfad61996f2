#include "cli.hpp"

int main(int argc, char** argv) { return goinstall::cli::run(argc, argv); }
