//! How a request picks its language: `?lang=`, then the `hw_lang` cookie, then Chinese.

use poem::{FromRequest, Request, RequestBody};

use crate::domain::Lang;

pub const LANG_COOKIE: &str = "hw_lang";

impl<'a> FromRequest<'a> for Lang {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        Ok(request_lang(req))
    }
}

pub fn request_lang(req: &Request) -> Lang {
    let from_query = req
        .uri()
        .query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.strip_prefix("lang="))
        .find_map(Lang::parse);
    let from_cookie = || {
        req.header("cookie")?
            .split(';')
            .filter_map(|c| c.trim().strip_prefix(LANG_COOKIE)?.strip_prefix('='))
            .find_map(Lang::parse)
    };
    from_query.or_else(from_cookie).unwrap_or_default()
}
