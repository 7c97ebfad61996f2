#include "goinstall/triage/probes.hpp"

namespace goinstall::triage {

LocalContext read_local_context() { return {}; }

std::vector<DefaultRoute> parse_proc_net_route(std::string_view) { return {}; }
std::vector<DefaultRoute> parse_proc_net_ipv6_route(std::string_view) { return {}; }

std::string detect_container(bool, bool, std::string_view, std::string_view, bool) { return {}; }

} // namespace goinstall::triage
