"""Fixed catalogues the simulated gateway draws from: networks, client fingerprints, models, languages.

The autonomous-system numbers are real and typed the way an IP-intelligence feed would type them;
the address prefixes given to each are synthetic (no claim about who really holds them).
"""

from __future__ import annotations

# asn -> (ip_type, ip_country, first octet, second-octet range): one synthetic /16 block per draw
NETWORKS: dict[int, tuple[str, str, int, tuple[int, int]]] = {
    # residential ISPs
    7922: ("residential", "US", 73, (0, 255)),
    701: ("residential", "US", 71, (0, 255)),
    3320: ("residential", "DE", 79, (192, 255)),
    2856: ("residential", "GB", 86, (128, 191)),
    12322: ("residential", "FR", 82, (64, 127)),
    4713: ("residential", "JP", 153, (128, 255)),
    4134: ("residential", "CN", 116, (0, 127)),
    4766: ("residential", "KR", 121, (128, 191)),
    28573: ("residential", "BR", 177, (0, 127)),
    9829: ("residential", "IN", 117, (192, 255)),
    # mobile carriers
    21928: ("mobile", "US", 172, (32, 63)),
    22394: ("mobile", "US", 174, (192, 255)),
    3209: ("mobile", "DE", 109, (40, 47)),
    # clouds and hosting
    16509: ("datacenter", "US", 52, (0, 95)),
    14618: ("datacenter", "US", 54, (144, 159)),
    15169: ("datacenter", "US", 34, (64, 127)),
    8075: ("datacenter", "US", 20, (0, 127)),
    14061: ("datacenter", "US", 167, (71, 99)),
    24940: ("datacenter", "DE", 95, (216, 223)),
    16276: ("datacenter", "FR", 51, (68, 91)),
    45102: ("datacenter", "SG", 47, (236, 247)),
    132203: ("datacenter", "HK", 43, (128, 159)),
    # VPN / proxy operators
    9009: ("vpn", "GB", 185, (153, 159)),
    60068: ("proxy", "NL", 89, (187, 187)),
    212238: ("proxy", "US", 156, (146, 147)),
    396982: ("datacenter", "US", 35, (192, 255)),
    # universities and large companies with their own AS (NAT egress)
    3: ("residential", "US", 18, (0, 31)),
    786: ("residential", "GB", 193, (60, 63)),
    680: ("residential", "DE", 141, (0, 63)),
}
RESIDENTIAL_ASNS = (7922, 701, 3320, 2856, 12322, 4713, 4134, 4766, 28573, 9829)
MOBILE_ASNS = (21928, 22394, 3209)
CLOUD_ASNS = (16509, 14618, 15169, 8075, 14061, 24940, 16276, 45102, 132203, 396982)
PROXY_ASNS = (9009, 60068, 212238, 14061, 24940, 16276, 45102, 132203)
CAMPUS_ASNS = (3, 786, 680)

# popular client stacks: (JA4-style TLS fingerprint, user agent); many benign accounts share each
SDK_CLIENTS = (
    ("t13d1516h2_8daaf6152771_02713d6af862", "OpenAI/Python 1.54.3"),
    ("t13d1516h2_8daaf6152771_02713d6af862", "AsyncOpenAI/Python 1.54.3"),
    ("t13d1715h2_5b57614c22b0_3d5424432f57", "OpenAI/JS 4.73.0"),
    ("t13d1715h2_5b57614c22b0_3d5424432f57", "langchain-js/0.3.6"),
    ("t13d1311h2_f57a46bbacb6_ab7e3b40a677", "Go-http-client/2.0"),
    ("t13d3112h2_e8f1e7e78f70_ce5650b735ce", "curl/8.5.0"),
    ("t13d1516h2_8daaf6152771_e5627efa2ab1", "python-httpx/0.27.2"),
    ("t13d1817h2_1d5b7a1e63c4_9a2d3e0f51a7", "okhttp/4.12.0"),
)
BROWSER_CLIENTS = (
    ("t13d1516h2_8daaf6152771_b1ff8ab2d16f", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0"),
    ("t13d1516h2_8daaf6152771_b1ff8ab2d16f", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Chrome/131.0"),
    ("t13d1715h2_5b57614c22b0_7121afd63204", "Mozilla/5.0 (Macintosh) Safari/605.1.15"),
    ("t13d1717h2_5b57614c22b0_3cbfd9057e0d", "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"),
)

# (model, reasoning model?) available from the start; NEW_MODEL is released during the world
MODELS = ("atlas-4o", "atlas-4o-mini", "atlas-r1")
REASONING_MODELS = frozenset({"atlas-r1", "atlas-5"})
NEW_MODEL = "atlas-5"

COUNTRIES = ("US", "US", "US", "GB", "DE", "FR", "JP", "IN", "BR", "KR", "CA", "NL", "SG", "ES")
COUNTRY_LANG = {
    "US": "en",
    "GB": "en",
    "CA": "en",
    "IN": "en",
    "SG": "en",
    "DE": "de",
    "FR": "fr",
    "JP": "ja",
    "BR": "pt",
    "KR": "ko",
    "NL": "nl",
    "ES": "es",
    "CN": "zh",
}
COUNTRY_UTC_OFFSET_H = {
    "US": -6,
    "CA": -5,
    "BR": -3,
    "GB": 0,
    "DE": 1,
    "FR": 1,
    "NL": 1,
    "ES": 1,
    "IN": 5,
    "SG": 8,
    "CN": 8,
    "JP": 9,
    "KR": 9,
}
COUNTRY_RESIDENTIAL_ASN = {
    "US": 7922,
    "CA": 701,
    "GB": 2856,
    "DE": 3320,
    "FR": 12322,
    "NL": 3320,
    "ES": 12322,
    "JP": 4713,
    "KR": 4766,
    "IN": 9829,
    "BR": 28573,
    "SG": 4134,
    "CN": 4134,
}
COERCION_LANGS = ("zh", "ru", "ar", "fa", "ko", "vi", "id", "tr", "es", "pt", "hi", "th", "uk", "en")

CAPABILITIES = ("coding", "agentic", "math", "reasoning", "vision", "writing", "chat", "other")
CHAT_CAPABILITIES = ("chat", "chat", "chat", "writing", "writing", "coding", "other", "reasoning", "vision")
VERIFICATION_STRONG = ("card", "business", "card", "phone")
VERIFICATION_WEAK = ("none", "email", "email", "phone")
