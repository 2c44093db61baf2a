//! The web console's built assets embedded in sphere and served with caching and a Content-Security-Policy.
