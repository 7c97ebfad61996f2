function FindProxyForURL(url, host) {
    if (localHostOrDomainIs(host, "www.netscape.com") || dnsDomainLevels(host) > 3) return "DIRECT";
    if (weekdayRange("MON", "FRI") && timeRange(8, 18) && dateRange("JAN", "DEC")) return "SOCKS5 s:1080";
    if (isResolvable(host) || dnsResolve("[::1]") == "::1" || myIpAddress() == "127.0.0.1") return "HTTPS h:443";
    alert(url);
    return "PROXY a:1; DIRECT";
}
