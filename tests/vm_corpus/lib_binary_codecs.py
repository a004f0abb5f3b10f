"""Binary data: base64/binascii/hashlib/zlib round trips, int.to_bytes, bytes methods, a hand-written CRC32."""

import base64
import binascii
import hashlib
import zlib


def crc32(data):
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = 0xEDB88320 ^ (c >> 1) if c & 1 else c >> 1
        table.append(c)
    crc = 0xFFFFFFFF
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def run_length(data):
    out = bytearray()
    i = 0
    while i < len(data):
        j = i
        while j < len(data) and data[j] == data[i] and j - i < 255:
            j += 1
        out += bytes([j - i, data[i]])
        i = j
    return bytes(out)


def run_length_decode(data):
    return b"".join(bytes([value]) * count for count, value in zip(data[::2], data[1::2]))


payload = b"The quick brown fox jumps over the lazy dog" * 3
print(crc32(payload) == zlib.crc32(payload), hex(crc32(b"123456789")))
print(base64.b64encode(payload[:20]), base64.urlsafe_b64encode(b"\xfb\xff\xfe"), base64.b32encode(b"hi"))
print(base64.b64decode(base64.b64encode(payload)) == payload, base64.b16decode(b"48690A"))
print(binascii.hexlify(b"\x00\x7f\x80\xff", "-"), binascii.unhexlify("cafe"), bytes.fromhex("de ad be ef"))
print(hashlib.sha256(payload).hexdigest()[:16], hashlib.md5(b"").hexdigest(), hashlib.sha1(b"abc").hexdigest()[:10])
compressed = zlib.compress(payload, 9)
print(len(payload), "->", len(compressed), zlib.decompress(compressed) == payload, zlib.adler32(b"wiki"))
packed = run_length(b"aaaabbbcccccccccd" + bytes(300))
print(packed[:8], len(packed), run_length_decode(packed) == b"aaaabbbcccccccccd" + bytes(300))
n = 2 ** 70 + 12345
raw = n.to_bytes(10, "big")
print(raw.hex(), int.from_bytes(raw, "big") == n, (-2).to_bytes(2, "little", signed=True), int.from_bytes(b"\xff", "little", signed=True))
data = bytearray(b"hello world")
data[0] ^= 0x20
data.extend(b"!")
print(data, data.upper(), data.split(b" "), data.find(b"wor"), bytes(data).translate(None, b"lo"))
print(b"a,b,,c".split(b","), b"  pad ".strip(), b"x" * 3 + b"y", b"abc"[1], list(b"AZ"), b"%d-%s" % (5, b"v"))
print(memoryview(bytearray(b"abcdef")).cast("B")[2], bytes(4), bytearray(range(65, 70)).decode("ascii"))
print("ünïcode".encode("utf-8"), "ünïcode".encode("latin-1"), b"\xc3\xbc".decode(), "x".encode("utf-16-le"))
try:
    b"\xff\xfe\xfa".decode("utf-8")
except UnicodeDecodeError as error:
    print("UnicodeDecodeError:", error.reason, error.start)
print(b"\xff".decode("utf-8", errors="replace"), "é".encode("ascii", errors="xmlcharrefreplace"))
binascii.unhexlify("abc")
