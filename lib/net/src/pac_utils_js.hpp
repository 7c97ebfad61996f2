#pragma once
// The standard PAC helper functions, evaluated before every PAC script. dnsResolve and myIpAddress
// are native (pac.cpp) and never query DNS; see pac.hpp.

namespace goinstall::pac_detail {

inline constexpr const char* k_pac_utils_js = R"PACJS(
function alert(msg) {}

// Real PAC files log with console.log (browsers provide it); here every method does nothing.
var console = {
    log: function () {}, info: function () {}, warn: function () {}, error: function () {},
    debug: function () {}
};

function isPlainHostName(host) {
    host = String(host);
    return host.indexOf('.') < 0 && host.indexOf(':') < 0;
}

function dnsDomainIs(host, domain) {
    host = String(host); domain = String(domain);
    return host.length >= domain.length &&
        host.substring(host.length - domain.length) === domain;
}

function localHostOrDomainIs(host, hostdom) {
    host = String(host); hostdom = String(hostdom);
    return host === hostdom || hostdom.lastIndexOf(host + '.', 0) === 0;
}

function dnsDomainLevels(host) {
    return String(host).split('.').length - 1;
}

function __pacIsIPv4(s) {
    if (typeof s !== 'string') return false;
    var p = s.split('.');
    if (p.length !== 4) return false;
    for (var i = 0; i < 4; i++) {
        if (!/^[0-9]{1,3}$/.test(p[i]) || Number(p[i]) > 255) return false;
    }
    return true;
}

function convert_addr(ipchars) {
    var b = String(ipchars).split('.');
    return (((b[0] & 0xff) << 24) | ((b[1] & 0xff) << 16) |
            ((b[2] & 0xff) << 8) | (b[3] & 0xff)) >>> 0;
}

function isResolvable(host) {
    return dnsResolve(host) !== null;
}

function isInNet(host, pattern, mask) {
    var ip = __pacIsIPv4(host) ? host : dnsResolve(host);
    if (!__pacIsIPv4(ip) || !__pacIsIPv4(pattern) || !__pacIsIPv4(mask)) return false;
    var m = convert_addr(mask);
    return ((convert_addr(ip) & m) >>> 0) === ((convert_addr(pattern) & m) >>> 0);
}

// Glob match: '*' any run of characters, '?' one character; everything else literal.
// Iterative with a single backtrack point, so it is O(len(str) * len(pattern)) at worst.
function shExpMatch(str, pattern) {
    str = String(str); pattern = String(pattern);
    var s = 0, p = 0, star = -1, mark = 0;
    while (s < str.length) {
        var c = pattern.charAt(p);
        if (p < pattern.length && (c === '?' || c === str.charAt(s))) { s++; p++; }
        else if (p < pattern.length && c === '*') { star = p++; mark = s; }
        else if (star >= 0) { p = star + 1; s = ++mark; }
        else return false;
    }
    while (p < pattern.length && pattern.charAt(p) === '*') p++;
    return p === pattern.length;
}

var __pacDays = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
var __pacMonths = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

// Splits off a trailing "GMT" argument: returns [args, gmt].
function __pacArgs(a) {
    var args = Array.prototype.slice.call(a);
    var gmt = false;
    if (args.length > 0 && String(args[args.length - 1]).toUpperCase() === 'GMT') {
        gmt = true;
        args.pop();
    }
    return [args, gmt];
}

function __pacInRange(lo, hi, v) {
    return lo <= hi ? (v >= lo && v <= hi) : (v >= lo || v <= hi);
}

function weekdayRange() {
    var x = __pacArgs(arguments), args = x[0], gmt = x[1];
    if (args.length < 1 || args.length > 2) return false;
    var d1 = __pacDays.indexOf(String(args[0]).toUpperCase());
    var d2 = args.length === 2 ? __pacDays.indexOf(String(args[1]).toUpperCase()) : d1;
    if (d1 < 0 || d2 < 0) return false;
    var now = new Date();
    return __pacInRange(d1, d2, gmt ? now.getUTCDay() : now.getDay());
}

// dateRange(day | month | year), or two halves of equal shape: (d1, d2), (m1, m2), (y1, y2),
// (d1, m1, d2, m2), (m1, y1, m2, y2), (d1, m1, y1, d2, m2, y2); optional trailing "GMT".
function dateRange() {
    var x = __pacArgs(arguments), args = x[0], gmt = x[1];
    var now = new Date();
    var cur = {
        d: gmt ? now.getUTCDate() : now.getDate(),
        m: gmt ? now.getUTCMonth() : now.getMonth(),
        y: gmt ? now.getUTCFullYear() : now.getFullYear()
    };
    function kind(v) {
        if (typeof v === 'string' && !/^[0-9]+$/.test(v)) {
            var i = __pacMonths.indexOf(v.toUpperCase());
            return i < 0 ? null : ['m', i];
        }
        var n = Number(v);
        if (isNaN(n) || n !== Math.floor(n) || n < 1) return null;
        return n <= 31 ? ['d', n] : ['y', n];
    }
    function value(o) {
        return (o.y !== undefined ? o.y : 0) * 10000 + (o.m !== undefined ? o.m : 0) * 100 +
            (o.d !== undefined ? o.d : 0);
    }
    if (args.length === 1) {
        var k = kind(args[0]);
        return k !== null && cur[k[0]] === k[1];
    }
    if (args.length !== 2 && args.length !== 4 && args.length !== 6) return false;
    var half = args.length / 2, lo = {}, hi = {}, c = {};
    for (var i = 0; i < half; i++) {
        var k1 = kind(args[i]), k2 = kind(args[i + half]);
        if (k1 === null || k2 === null || k1[0] !== k2[0] || lo[k1[0]] !== undefined) return false;
        lo[k1[0]] = k1[1];
        hi[k2[0]] = k2[1];
        c[k1[0]] = cur[k1[0]];
    }
    return __pacInRange(value(lo), value(hi), value(c));
}

// timeRange(hour), (h1, h2), (h1, m1, h2, m2), (h1, m1, s1, h2, m2, s2); optional trailing "GMT".
// The end is inclusive at the granularity given: (9, 17) is 09:00:00 to 17:59:59.
function timeRange() {
    var x = __pacArgs(arguments), args = x[0], gmt = x[1];
    var now = new Date();
    var h = gmt ? now.getUTCHours() : now.getHours();
    var m = gmt ? now.getUTCMinutes() : now.getMinutes();
    var s = gmt ? now.getUTCSeconds() : now.getSeconds();
    var a = [];
    for (var i = 0; i < args.length; i++) {
        var n = Number(args[i]);
        if (isNaN(n)) return false;
        a.push(n);
    }
    var cur = h * 3600 + m * 60 + s, lo, hi;
    switch (a.length) {
    case 1: return h === a[0];
    case 2: lo = a[0] * 3600; hi = a[1] * 3600 + 3599; break;
    case 4: lo = a[0] * 3600 + a[1] * 60; hi = a[2] * 3600 + a[3] * 60 + 59; break;
    case 6: lo = a[0] * 3600 + a[1] * 60 + a[2]; hi = a[3] * 3600 + a[4] * 60 + a[5]; break;
    default: return false;
    }
    return __pacInRange(lo, hi, cur);
}
)PACJS";

} // namespace goinstall::pac_detail
