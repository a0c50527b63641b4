//! Authentication both ways: app-only tokens for calling Graph, and validation of the tokens
//! Graph puts on its callbacks.

mod callback;
mod token;

pub use callback::{CallbackAuthConfig, CallbackAuthError, CallbackClaims, CallbackValidator};
pub use token::{TokenCache, TokenConfig, TokenError};
