//! Links the crate against libsmgcore_c.so.
//!
//! SMGCORE_LIB_DIR names the directory holding libsmgcore_c.so; by default
//! the release preset's build tree (`../../build/release/capi` from this
//! manifest). An rpath to that directory is embedded so that `cargo run` and
//! `cargo test` work without LD_LIBRARY_PATH.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=SMGCORE_LIB_DIR");
    println!("cargo:rerun-if-changed=build.rs");

    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let lib_dir = match env::var_os("SMGCORE_LIB_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => manifest_dir.join("../../build/release/capi"),
    };
    // An absolute path: the rpath must not depend on the working directory.
    let lib_dir = lib_dir.canonicalize().unwrap_or_else(|_| {
        panic!(
            "SMGCORE_LIB_DIR {} does not exist: build libsmgcore_c.so first \
             (cmake --preset release && cmake --build --preset release --target smgcore_c_shared) \
             or point SMGCORE_LIB_DIR at the directory holding it",
            lib_dir.display()
        )
    });
    if !lib_dir.join("libsmgcore_c.so").exists() {
        panic!(
            "no libsmgcore_c.so in {}: build the smgcore_c_shared target (release preset) \
             or set SMGCORE_LIB_DIR",
            lib_dir.display()
        );
    }

    let dir = lib_dir.display();
    println!("cargo:rustc-link-search=native={dir}");
    println!("cargo:rustc-link-lib=dylib=smgcore_c");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
}
