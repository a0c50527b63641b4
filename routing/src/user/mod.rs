mod status;
pub use status::UserStatus;
