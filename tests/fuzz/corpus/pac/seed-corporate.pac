function FindProxyForURL(url, host) {
    host = host.toLowerCase();
    if (isPlainHostName(host)) return "DIRECT";
    if (shExpMatch(host, "*.corp") || dnsDomainIs(host, ".intranet.example.com")) return "DIRECT";
    if (isInNet(host, "10.0.0.0", "255.0.0.0")) return "DIRECT";
    if (url.substring(0, 4) == "ftp:") return "DIRECT";
    return "PROXY proxy.example.com:3128; DIRECT";
}
