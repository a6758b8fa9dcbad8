//! Browser tests (headless Chromium through chromedriver). Written separately; see README.
