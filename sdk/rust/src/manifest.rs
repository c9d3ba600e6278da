// The `tessera:manifest` custom section, rendered to JSON at compile time from the export
// macro's arguments and checked there against abi/schemas/manifest.schema.json, so a bad
// type, version or capability is a compile error rather than a refusal at load.

pub use crate::generated::ABI_VERSION;

/// The host interfaces a component may import, in the order the manifest lists them (from the WIT).
use crate::generated::HOST_INTERFACES as CAPABILITIES;

/// What a component says about itself; the macros fill it in.
pub struct ManifestFields<'a> {
    pub kind: &'a str,
    pub component_type: &'a str,
    pub version: &'a str,
    pub capabilities: &'a [&'a str],
    /// Empty or one line.
    pub description: &'a [&'a str],
}

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Whether `s` holds `prefix` from index `at` on.
const fn starts_with_at(s: &[u8], at: usize, prefix: &[u8]) -> bool {
    if s.len() < at + prefix.len() {
        return false;
    }
    let mut i = 0;
    while i < prefix.len() {
        if s[at + i] != prefix[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Whether the manifest lists `capability`.
pub const fn lists_capability(fields: &ManifestFields<'_>, capability: &str) -> bool {
    let mut i = 0;
    while i < fields.capabilities.len() {
        if same(fields.capabilities[i], capability) {
            return true;
        }
        i += 1;
    }
    false
}

/// `^<prefix>[a-z0-9][a-z0-9._-]*$`, at most 128 bytes: the schema's pattern for a type,
/// with the building block the kind implies (`state.` for a state store, `pubsub.` for a
/// broker, `bindings.` for a binding).
const fn check_type(kind: &str, t: &str) {
    let b = t.as_bytes();
    let prefix: &[u8] = if same(kind, "pubsub") {
        b"pubsub."
    } else if same(kind, "binding") {
        b"bindings."
    } else {
        b"state."
    };
    let start = prefix.len();
    if !starts_with_at(b, 0, prefix) || b.len() == start || b.len() > 128 {
        if same(kind, "pubsub") {
            panic!("tessera manifest: `type` must be `pubsub.<name>` (e.g. \"pubsub.redis\"), at most 128 bytes");
        }
        if same(kind, "binding") {
            panic!("tessera manifest: `type` must be `bindings.<name>` (e.g. \"bindings.redis\"), at most 128 bytes");
        }
        panic!("tessera manifest: `type` must be `state.<name>` (e.g. \"state.memory\"), at most 128 bytes");
    }
    let mut i = start;
    while i < b.len() {
        let c = b[i];
        let ok = c.is_ascii_lowercase() || c.is_ascii_digit() || (i > start && (c == b'.' || c == b'_' || c == b'-'));
        if !ok {
            panic!("tessera manifest: `type` may hold only a-z, 0-9, and after the first character . _ -");
        }
        i += 1;
    }
}

/// `^v[0-9]+(alpha[0-9]*|beta[0-9]*)?$`
const fn check_version(v: &str) {
    let b = v.as_bytes();
    let mut i = 1;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut ok = b.len() > 1 && b[0] == b'v' && i > 1;
    if ok && i < b.len() {
        let tag = if starts_with_at(b, i, b"alpha") {
            5
        } else if starts_with_at(b, i, b"beta") {
            4
        } else {
            0
        };
        ok = tag > 0;
        let mut j = i + tag;
        while ok && j < b.len() {
            ok = b[j].is_ascii_digit();
            j += 1;
        }
    }
    if !ok {
        panic!("tessera manifest: `version` must look like v1, v2alpha1 or v1beta");
    }
}

const fn check_capabilities(caps: &[&str]) {
    let mut i = 0;
    while i < caps.len() {
        let mut known = false;
        let mut k = 0;
        while k < CAPABILITIES.len() {
            known = known || same(caps[i], CAPABILITIES[k]);
            k += 1;
        }
        if !known {
            panic!("tessera manifest: a capability is not one of log, clock, random, sleep, tcp, http, timezone");
        }
        let mut j = 0;
        while j < i {
            if same(caps[i], caps[j]) {
                panic!("tessera manifest: a capability is listed twice");
            }
            j += 1;
        }
        i += 1;
    }
}

/// Whether `s` is one line of at most 1024 characters (the schema's `maxLength` counts
/// characters, not bytes).
const fn is_description(s: &str) -> bool {
    let b = s.as_bytes();
    let (mut i, mut chars) = (0, 0);
    while i < b.len() {
        if b[i] == b'\n' || b[i] == b'\r' {
            return false;
        }
        if b[i] & 0xc0 != 0x80 {
            chars += 1;
        }
        i += 1;
    }
    chars <= 1024
}

/// Bytes of JSON, written into `buf` while they fit and counted always: rendering into a
/// zero-length buffer measures the manifest, and a second pass fills one of that length.
struct Json<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Json<N> {
    const fn byte(mut self, b: u8) -> Self {
        if self.len < N {
            self.buf[self.len] = b;
        }
        self.len += 1;
        self
    }

    const fn raw(mut self, s: &str) -> Self {
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            self = self.byte(b[i]);
            i += 1;
        }
        self
    }

    /// A JSON string: quotes, backslashes and control characters escaped, the rest as is.
    const fn string(mut self, s: &str) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        self = self.byte(b'"');
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            self = match c {
                b'"' | b'\\' => self.byte(b'\\').byte(c),
                b'\n' => self.raw("\\n"),
                b'\r' => self.raw("\\r"),
                b'\t' => self.raw("\\t"),
                0..=0x1f => self.raw("\\u00").byte(HEX[(c >> 4) as usize]).byte(HEX[(c & 0xf) as usize]),
                _ => self.byte(c),
            };
            i += 1;
        }
        self.byte(b'"')
    }
}

/// Same key order as components-wasm/build.ts writes, capabilities in the schema's order.
const fn render<const N: usize>(fields: &ManifestFields<'_>) -> Json<N> {
    check_type(fields.kind, fields.component_type);
    check_version(fields.version);
    check_capabilities(fields.capabilities);
    if fields.description.len() > 1 || (fields.description.len() == 1 && !is_description(fields.description[0])) {
        panic!("tessera manifest: `description` is one line of at most 1024 characters");
    }
    let mut json = Json { buf: [0u8; N], len: 0 };
    json = json.raw("{\"kind\":").string(fields.kind);
    json = json.raw(",\"type\":").string(fields.component_type);
    json = json.raw(",\"version\":").string(fields.version);
    json = json.raw(",\"abi\":").string(ABI_VERSION);
    json = json.raw(",\"capabilities\":[");
    let mut listed = 0;
    let mut k = 0;
    while k < CAPABILITIES.len() {
        if lists_capability(fields, CAPABILITIES[k]) {
            if listed > 0 {
                json = json.byte(b',');
            }
            json = json.string(CAPABILITIES[k]);
            listed += 1;
        }
        k += 1;
    }
    json = json.byte(b']');
    if fields.description.len() == 1 {
        json = json.raw(",\"description\":").string(fields.description[0]);
    }
    json.byte(b'}')
}

/// The manifest's length in bytes.
pub const fn manifest_len(fields: &ManifestFields<'_>) -> usize {
    render::<0>(fields).len
}

/// The manifest as the bytes of the custom section; `N` is `manifest_len(fields)`.
pub const fn manifest<const N: usize>(fields: &ManifestFields<'_>) -> [u8; N] {
    render::<N>(fields).buf
}
