//! The uniffi bindings generator, built from this crate's pinned uniffi so the
//! generated code always matches the library's scaffolding:
//! `uniffi-bindgen generate --library <libcoup_ffi.so> --language kotlin --out-dir OUT`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
