//! Which pre-compressed copy of a file to send, from `Accept-Encoding`.

use axum::http::HeaderMap;
use axum::http::header::ACCEPT_ENCODING;

/// The encodings the UI build writes copies in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Brotli,
    Gzip,
}

impl Encoding {
    pub fn header_value(self) -> &'static str {
        match self {
            Encoding::Brotli => "br",
            Encoding::Gzip => "gzip",
        }
    }

    pub fn file_suffix(self) -> &'static str {
        match self {
            Encoding::Brotli => "br",
            Encoding::Gzip => "gz",
        }
    }
}

/// The encodings the request accepts, smallest first (brotli beats gzip
/// whatever the q-values, which browsers send equal); `q=0` refuses one.
pub fn preferred_encodings(request: &HeaderMap) -> Vec<Encoding> {
    let mut accepted = Vec::new();
    let mut any = false;
    let mut refused = Vec::new();
    for item in request
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
    {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let quality = parts
            .filter_map(|parameter| parameter.trim().strip_prefix("q="))
            .find_map(|value| value.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let encoding = match name.as_str() {
            "br" => Some(Encoding::Brotli),
            "gzip" | "x-gzip" => Some(Encoding::Gzip),
            "*" => {
                any = quality > 0.0;
                None
            }
            _ => None,
        };
        if let Some(encoding) = encoding {
            if quality > 0.0 { accepted.push(encoding) } else { refused.push(encoding) }
        }
    }
    [Encoding::Brotli, Encoding::Gzip]
        .into_iter()
        .filter(|encoding| accepted.contains(encoding) || (any && !refused.contains(encoding)))
        .collect()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn accepting(value: &str) -> Vec<Encoding> {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_str(value).unwrap());
        preferred_encodings(&headers)
    }

    #[test]
    fn brotli_first_then_gzip_and_q_zero_refuses() {
        assert_eq!(accepting("gzip, deflate, br, zstd"), vec![Encoding::Brotli, Encoding::Gzip]);
        assert_eq!(accepting("gzip"), vec![Encoding::Gzip]);
        assert_eq!(accepting("br;q=0, gzip;q=0.5"), vec![Encoding::Gzip]);
        assert_eq!(accepting("identity"), Vec::<Encoding>::new());
        assert_eq!(accepting("*"), vec![Encoding::Brotli, Encoding::Gzip]);
        assert_eq!(accepting("*, br;q=0"), vec![Encoding::Gzip]);
        assert!(preferred_encodings(&HeaderMap::new()).is_empty());
    }
}
