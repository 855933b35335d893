//! The exports. Buffers are byte arrays (alignment 1) from the module's global allocator; a buffer is freed with
//! the length it was allocated with, which the host always knows (it asked for the request buffer, and the
//! response length comes back with its pointer).

extern crate alloc;

use alloc::alloc::{alloc, dealloc, Layout};
use nv2_core::verify::wire::verify_json;

/// dlmalloc over `memory.grow`: needs no import.
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

/// A panic (a bug: the core returns errors, it does not panic on input) traps, so the host sees a failed call
/// rather than a wrong answer, and no panic machinery or message formatting is linked in.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

/// The layout of a `len`-byte buffer; zero-length buffers take one byte so every buffer is a real allocation.
fn layout(len: usize) -> Option<Layout> {
    Layout::from_size_align(len.max(1), 1).ok()
}

/// The ABI version ([`crate::ABI_VERSION`]); hosts check it before anything else.
#[no_mangle]
pub extern "C" fn nv2_abi_version() -> u32 {
    crate::ABI_VERSION
}

/// A buffer of `len` bytes for the host to write a request into; null (0) when memory is exhausted.
#[no_mangle]
pub extern "C" fn nv2_alloc(len: usize) -> *mut u8 {
    match layout(len) {
        // SAFETY: the layout has a non-zero size.
        Some(layout) => unsafe { alloc(layout) },
        None => core::ptr::null_mut(),
    }
}

/// Frees a buffer returned by [`nv2_alloc`] or by [`nv2_verify`].
///
/// # Safety
/// `ptr` must come from one of those calls with this very `len`, and not be freed twice. A null `ptr` is ignored.
#[no_mangle]
pub unsafe extern "C" fn nv2_free(ptr: *mut u8, len: usize) {
    if let (false, Some(layout)) = (ptr.is_null(), layout(len)) {
        // SAFETY: the caller guarantees `ptr` was allocated with this layout.
        unsafe { dealloc(ptr, layout) }
    }
}

/// Runs the wire-format request in `ptr[..len]` and returns the response buffer packed as
/// `(pointer << 32) | length`; 0 when the response could not be allocated. The request buffer stays the host's to
/// free; the response buffer is freed with [`nv2_free`].
///
/// # Safety
/// `ptr[..len]` must be readable memory of this module (a buffer from [`nv2_alloc`]); a null `ptr` reads as an
/// empty request.
#[no_mangle]
pub unsafe extern "C" fn nv2_verify(ptr: *const u8, len: usize) -> u64 {
    let request: &[u8] = match ptr.is_null() {
        true => &[],
        // SAFETY: the caller guarantees `ptr[..len]` is readable.
        false => unsafe { core::slice::from_raw_parts(ptr, len) },
    };
    let response = verify_json(request);
    let out = nv2_alloc(response.len());
    if out.is_null() {
        return 0;
    }
    // SAFETY: `out` is a fresh allocation of `response.len()` bytes that cannot overlap `response`.
    unsafe { core::ptr::copy_nonoverlapping(response.as_ptr(), out, response.len()) };
    // wasm32: pointers and lengths are 32 bits, so both fit their halves.
    ((out as usize as u64) << 32) | response.len() as u64
}
