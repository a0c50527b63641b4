//! The simulator's signing key (a fixed 2048-bit test key: generating one at runtime is slow in
//! debug builds) and a second, unpublished key for "bad signature" tests. Test material only.

pub(crate) const SIM_KID: &str = "stratus-sim-1";

/// Private key the simulator signs callbacks with (PKCS#1 PEM).
pub const SIM_KEY_PEM: &str = "\
-----BEGIN RSA PRIVATE KEY-----\n\
MIIEowIBAAKCAQEAnEplhf/EGPhaU3R7zaR6jBY4XcdiCI0CauLOn1vt+xr2El/F\n\
cXPlRF/QCpjkMb0YzoB0C7wlHEai0YnC0/XvLUdqNDMOk9NdD1vf+n7bT8buVe1R\n\
MsQsCd5HCfp63t03N4yMMqKRPAhSx6T3gHt6VMhrZS18pOf9qtJgkuBtHCHt4tpQ\n\
1gZJztt54M/uUw3ZvsoRxahIQiBD5+a1P1pqAxwYY7ouGCAU0iD5uQA2WW7kLdoy\n\
nLr1C98e+TVYHj1WUT3QEicvNvzW9c/edTTtMkjqctKa7r6nWyair/fGavcvs9+y\n\
K71W3xUIWQEyJJBsatAXRSOJe+Tz5HZQU3965QIDAQABAoIBAAF01ThbJBX1e0xl\n\
L/tZ41IN3PQAXFYAqZUBMw3ogRgcOrT8hnr8EP1ca5rFrPUXsk6UtnNR8ZvI8euq\n\
it6HX3V+p/f/jjNR2DKnip4R2fPtQlUaDO3zrQaUg/kmuxSVLCNAE7uSQnDN3qbO\n\
NaFq+FgoG/QWT4YiRH3Egxjee+kAr85+3617AoiJJ3biWPgRnOpjPkWsyjWbEM/U\n\
wDr8+dOd8incj61ac6P+C6VaB7ER0961Krz9aZ5GCqWrrnOHCeLTMnnvZPKfVJT9\n\
PgYP0AXE13Frpj8lauPJnmEpCViC+ZHFZ/xqWQskHbpGHdb42NSmBOtZbndOKKyS\n\
gLOURJsCgYEAz5/4hKhvfY8x3iMGGJY8zZ7UKE+SkQlstZKk2bvFs/fnWCp78/9o\n\
i9yT4JNwxQXdcNaZrxMrGqJPu6DDOQcAtllmjEuewAUtfdr1yqdUEVb6usq2WtVt\n\
HJSo0I4UZcmZ3wcamlVTgnxDYDZ017cERj5y3xDHBLN6O4BL8aUkgDsCgYEAwLSI\n\
b+7s2hrSJOJ2b31xRMyZymQ+Qg82QJ3K/bQe3srJspjELyZJX8axAcHNjHK/dgz/\n\
b6TUeKmr16p4MMbh0omvO0CdG48W0X0EKKLlZIVNbTW3XWb3vH1BWGh5JuM19gbH\n\
yz4F9B+Y/skzOj0i7lbD71IE0UUS6IsTfjY6X18CgYEAqzBnJFoMsyYiI9oU6KjX\n\
MWLH4wTZACUZMQzcR3p/JEg+w38j/KaWeNtCQmTPEmQnlSYcSTIw1CEIRNfkn1ya\n\
xb8ownyHRCQAwkiLaLBWrIVe7iy99l8LPAmGt46uWs7CxBWDZcT8uhXjJ60+4a3R\n\
JGnRJQMcVU/2dKDv/SoA0okCgYBxLpekBpSeVXpvp4MgYHESk4kQUmgurHiU4xjC\n\
gfRPrpNgjlFL0BTwZ+a2vXlYsFy7nU655/nTFPSVKs6E94rS+YMuLfkYoqYoTGEQ\n\
7PwGWjTrm80i0sNWtcqXfmUJ7hFXewwF11vv0k8t9kZcQmQt0FAsU+P4dbVxV54P\n\
VxJZyQKBgDv74u7RVgPppArHWo8D7fHrXtt8h4F90yqaWXAyAikyHT8tabF6nSIp\n\
2ba5JB07AGN7rC9vMW//akT0sqXlevfPCN+MmAiVJv0CI0HK715OGrG2xX4Py7mt\n\
Wisdzf5aZhwpV8CGbyjuoW0DpoIGSVZLCUQcAcOVf+TW/tavvddz\n\
-----END RSA PRIVATE KEY-----\n\
";

/// Public modulus of [`SIM_KEY_PEM`], base64url (published in the JWKS).
pub(crate) const SIM_KEY_N: &str = "nEplhf_EGPhaU3R7zaR6jBY4XcdiCI0CauLOn1vt-xr2El_FcXPlRF_QCpjkMb0YzoB0C7wlHEai0YnC0_XvLUdqNDMOk9NdD1vf-n7bT8buVe1RMsQsCd5HCfp63t03N4yMMqKRPAhSx6T3gHt6VMhrZS18pOf9qtJgkuBtHCHt4tpQ1gZJztt54M_uUw3ZvsoRxahIQiBD5-a1P1pqAxwYY7ouGCAU0iD5uQA2WW7kLdoynLr1C98e-TVYHj1WUT3QEicvNvzW9c_edTTtMkjqctKa7r6nWyair_fGavcvs9-yK71W3xUIWQEyJJBsatAXRSOJe-Tz5HZQU3965Q";
pub(crate) const SIM_KEY_E: &str = "AQAB";

/// A key nobody publishes: tokens signed with it must be rejected.
pub const OTHER_KEY_PEM: &str = "\
-----BEGIN RSA PRIVATE KEY-----\n\
MIIEpAIBAAKCAQEAp7XonNhauvCcGAwO7kURU/Ch78J6FmC8FU7IV24bmNyBlUJJ\n\
w3e3lIFj79w+Ik5C7VnkBnnvrnGgX8V20Vs6Z/BJEiPc4SJUHCtAke34KQpwUFLn\n\
Jvr68KPCHIoxP4tvghtdIC3hLRuFVIsSRDiIQYQxngA0r4FKl8UJiNq4PvmLdT/h\n\
oruKvy4EFJZhnM90o/Y/8qVRZS8eFP7AvSiJd09Ap6c04ATNhnqsbPi0PqTT6oS1\n\
tr+8JtBmTiKA9mqbBgYb5iYcZJHvODyumiitOnJayMRFaTSVizC8IwShzt0j6XmH\n\
6JmowlUMX/DjDiMmg9UU9qprFhH/TLoeyNcLcQIDAQABAoIBAAPvOxVO6BYBpg/U\n\
XJdPbIAlIY9v5xBWVaNEVWPjs+cKqUmYpAVfbiGgRXlvl8+TOXO7C6PxQWO8y6/j\n\
gI2Zz813cCdqSvjHJuUASMQDqrI/yfHAeCbMdY2msducjFo6ybNqM+2Y1fMKdb7N\n\
gnCySNQMp2NXCuVhKaBU4Yvh4besdkmvufg8ioZrbxENjUmOfdbdkdRH7ZWRQLF7\n\
JZWWaXb9V+GgTyLSfkjl0LFK/CngMKj3a0lYeq5XySRsupFRWCogJRpFLfYMEAeK\n\
NhNPeCWNUsIDXFWQJIKQJPUbFtup27Qj0gkdr+dNUcc0t6QJAY03KZqR9B0J4JYK\n\
fmeOn28CgYEA5Jozv6+XhO4WVQtc2ZYgF4f2bbgYzRnY0M+UkLc7aFqI3YgNC4rr\n\
bG6g6wkM6J103enimeC52NWZIvjxgPw6ocV+Zjrb1q9DKMkRUL6RUd54yNLcAjgI\n\
QBoJrLut2pa7fU5xDZDKgaLvRfNe74PCcQf4i8+FIm4udK75OULXzXsCgYEAu895\n\
FWKHtxEewy9q7SjFm/0Lca5klAeY3C0Mb1bDvo7yCGJBXwITSLfteJwrfY/6gdb+\n\
efMzQYFCAUdknhCuGnmBmCD2JjODi07pKX0XvRf2hYAArkRTM0ZAiCkkVV8kAQSC\n\
abQD7m4ImkvaUqfTFS/RE7qTT/u5pRqeRdZp+QMCgYEAvOWW4UwtPhCmr3uGK93b\n\
gtY8kQlQpRo4iMMelj5yfpZhBf2IGgOe6ai4m76MxiJmEYFUV6bUqxJFShq/JMBH\n\
iqlw+vSj99A3BJqxDjGKT0YwNHHYjpTSbHWXjP5AeKGZJ8ALtxPv4hNK+FhUGEKe\n\
B1x4yr6d2oeFJ7H2CpTrUcUCgYBpPZVoOlI6b0mBrmyIgLRa+K0VAtgxayBpIIU7\n\
Tq9ZdNiDgiuHha4wrYBQeZKVRbzmTQdEZtdt+XR3Kv5i5I3rH/NSwAWu2mb4BTv6\n\
l7JZr7fgjx3SiU7mCJPYuNU3UZznRROfD9S0IsyHScIJVymdUbIjEAXEaBZbQlM2\n\
ZzPy6QKBgQDOZJPkxZ3G5m/waspENGYHibrxIxDqchHu+4TMRtvT9y6GWvUXC5os\n\
M5ObP9jPFq01t5UGwHqDAIuRyjGnea8WCqks+qn+BPT8uHrEbR9XMoRRYhDrbDLI\n\
1itR5ZKSnZ5dVT/N1mTSAh+y+U3p4WOkpulJccasuXn0iiq6cJZUOQ==\n\
-----END RSA PRIVATE KEY-----\n\
";
