//! Input rows for `validate --data`: NumPy `.npy` (2-D, float or integer,
//! little-endian, C or Fortran order) or CSV (numbers, an optional header).
//! Recognised by content.

use ndarray::Array2;

/// Why a data file could not be read; the message names the position.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DataError(pub String);

fn err(s: impl Into<String>) -> DataError {
    DataError(s.into())
}

const NPY_MAGIC: &[u8] = b"\x93NUMPY";

/// Reads rows from `.npy` or CSV bytes.
pub fn read_rows(bytes: &[u8]) -> Result<Array2<f64>, DataError> {
    if bytes.starts_with(NPY_MAGIC) {
        read_npy(bytes)
    } else {
        read_csv(bytes)
    }
}

fn header_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let start = header.find(&format!("'{key}'"))? + key.len() + 2;
    let rest = header[start..].trim_start().strip_prefix(':')?.trim_start();
    Some(rest)
}

/// What an `.npy` header says: the dtype, the memory order, the shape as
/// rows × columns (a 1-D array is one column) and where the data starts.
struct NpyHeader<'a> {
    descr: &'a str,
    fortran: bool,
    rows: usize,
    cols: usize,
    data_start: usize,
}

/// Parses the magic-prefixed header (format versions 1 to 3).
fn npy_header(bytes: &[u8]) -> Result<NpyHeader<'_>, DataError> {
    if bytes.len() < 10 {
        return Err(err("npy: truncated header at byte offset 6"));
    }
    let major = bytes[6];
    let (header_len, header_start) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10usize),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err(err("npy: truncated header at byte offset 8"));
            }
            (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            )
        }
        v => {
            return Err(err(format!(
                "npy: unsupported format version {v} at byte offset 6"
            )))
        }
    };
    let data_start = header_start
        .checked_add(header_len)
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| {
            err(format!(
                "npy: header of {header_len} bytes runs past the end of the file"
            ))
        })?;
    let header = std::str::from_utf8(&bytes[header_start..data_start]).map_err(|_| {
        err(format!(
            "npy: header at byte offset {header_start} is not text"
        ))
    })?;
    let descr = header_value(header, "descr")
        .and_then(|r| r.strip_prefix('\''))
        .and_then(|r| r.split('\'').next())
        .ok_or_else(|| err("npy: header has no 'descr'"))?;
    let fortran = header_value(header, "fortran_order")
        .map(|r| r.starts_with("True"))
        .ok_or_else(|| err("npy: header has no 'fortran_order'"))?;
    let shape_text = header_value(header, "shape")
        .and_then(|r| r.strip_prefix('('))
        .and_then(|r| r.split(')').next())
        .ok_or_else(|| err("npy: header has no 'shape'"))?;
    let shape: Vec<usize> = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| err(format!("npy: bad shape entry '{s}'")))
        })
        .collect::<Result<_, _>>()?;
    let (rows, cols) = match shape.as_slice() {
        [r, c] => (*r, *c),
        [r] => (*r, 1),
        other => {
            return Err(err(format!(
                "npy: expected a 2-D array, found {} dimensions",
                other.len()
            )))
        }
    };
    Ok(NpyHeader {
        descr,
        fortran,
        rows,
        cols,
        data_start,
    })
}

fn read_npy(bytes: &[u8]) -> Result<Array2<f64>, DataError> {
    let NpyHeader {
        descr,
        fortran,
        rows,
        cols,
        data_start,
    } = npy_header(bytes)?;
    let (size, decode): (usize, fn(&[u8]) -> f64) = match descr {
        "<f8" => (8, |b| f64::from_le_bytes(b.try_into().unwrap_or([0; 8]))),
        "<f4" => (4, |b| f32::from_le_bytes(b.try_into().unwrap_or([0; 4])) as f64),
        "<i8" => (8, |b| i64::from_le_bytes(b.try_into().unwrap_or([0; 8])) as f64),
        "<i4" => (4, |b| i32::from_le_bytes(b.try_into().unwrap_or([0; 4])) as f64),
        other => {
            return Err(err(format!(
                "npy: dtype '{other}' is not supported (use little-endian float64, float32, int64 or int32)"
            )))
        }
    };
    let count = rows
        .checked_mul(cols)
        .ok_or_else(|| err("npy: shape overflows"))?;
    let needed = count
        .checked_mul(size)
        .ok_or_else(|| err("npy: shape overflows"))?;
    let body = &bytes[data_start..];
    if body.len() < needed {
        return Err(err(format!(
            "npy: the array needs {needed} data bytes after offset {data_start}, the file has {}",
            body.len()
        )));
    }
    let values: Vec<f64> = body[..needed].chunks_exact(size).map(decode).collect();
    let array = if fortran {
        Array2::from_shape_vec((cols, rows), values)
            .map(|a| a.reversed_axes().as_standard_layout().to_owned())
    } else {
        Array2::from_shape_vec((rows, cols), values)
    };
    let array = array.map_err(|e| err(format!("npy: {e}")))?;
    if let Some(i) = array.iter().position(|v| !v.is_finite()) {
        return Err(err(format!(
            "npy: value at row {}, column {} is not finite",
            i / cols.max(1),
            i % cols.max(1)
        )));
    }
    Ok(array)
}

fn read_csv(bytes: &[u8]) -> Result<Array2<f64>, DataError> {
    let text = std::str::from_utf8(bytes).map_err(|e| err(format!("csv: not UTF-8 text ({e})")))?;
    let mut rows: Vec<Vec<f64>> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let parsed: Result<Vec<f64>, usize> = fields
            .iter()
            .enumerate()
            .map(|(i, f)| f.parse::<f64>().map_err(|_| i))
            .collect();
        match parsed {
            Ok(values) => {
                if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                    return Err(err(format!(
                        "csv: line {}, column {}: value is not finite",
                        n + 1,
                        i + 1
                    )));
                }
                if let Some(first) = rows.first() {
                    if first.len() != values.len() {
                        return Err(err(format!(
                            "csv: line {} has {} columns, earlier lines have {}",
                            n + 1,
                            values.len(),
                            first.len()
                        )));
                    }
                }
                rows.push(values);
            }
            // A first line with no number at all is a header.
            Err(_) if n == 0 && fields.iter().all(|f| f.parse::<f64>().is_err()) => continue,
            Err(i) => {
                return Err(err(format!(
                    "csv: line {}, column {}: '{}' is not a number",
                    n + 1,
                    i + 1,
                    fields[i]
                )))
            }
        }
    }
    let cols = rows.first().map_or(0, Vec::len);
    if rows.is_empty() {
        return Err(err("csv: no data rows"));
    }
    let flat: Vec<f64> = rows.into_iter().flatten().collect();
    Array2::from_shape_vec((flat.len() / cols, cols), flat).map_err(|e| err(format!("csv: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
        let mut header = format!(
            "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}",
            if fortran { "True" } else { "False" }
        );
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut out = NPY_MAGIC.to_vec();
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn npy_c_and_fortran_order() {
        let data: Vec<u8> = [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let c = read_rows(&npy("<f8", false, "(2, 3)", &data)).unwrap();
        assert_eq!(c, ndarray::arr2(&[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]));
        let f = read_rows(&npy("<f8", true, "(2, 3)", &data)).unwrap();
        assert_eq!(f, ndarray::arr2(&[[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]));
    }

    #[test]
    fn npy_truncated_data_is_an_error() {
        let data = [0u8; 8];
        let e = read_rows(&npy("<f8", false, "(2, 3)", &data)).unwrap_err();
        assert!(e.0.contains("needs 48 data bytes"), "{e}");
    }

    #[test]
    fn csv_with_header() {
        let rows = read_rows(b"a,b\n1,2\n3.5,-4e2\n").unwrap();
        assert_eq!(rows, ndarray::arr2(&[[1.0, 2.0], [3.5, -400.0]]));
        assert!(read_rows(b"1,2\n3\n").unwrap_err().0.contains("line 2"));
        assert!(read_rows(b"1,2\n3,x\n").unwrap_err().0.contains("'x'"));
    }
}
