//! Non-negative least squares for a handful of columns: the exact optimum by trying every
//! support. For each subset of columns the unconstrained least-squares solution is computed;
//! the best one whose coefficients are all non-negative is the constrained optimum (the optimum
//! is the unconstrained solution on its own support). With three columns that is seven small
//! solves, cheaper and simpler than an active-set method.

/// Coefficients `x ≥ 0` minimising `Σ (rows[i]·x − y[i])²`. Columns are scaled to unit norm
/// before solving so MACs (10⁹) and calls (10²) do not ruin the conditioning.
#[must_use]
pub fn nnls(rows: &[Vec<f64>], y: &[f64]) -> Vec<f64> {
    let cols = rows.first().map_or(0, Vec::len);
    let scale: Vec<f64> = (0..cols)
        .map(|j| {
            let norm = rows.iter().map(|r| r[j] * r[j]).sum::<f64>().sqrt();
            if norm > 0.0 {
                norm
            } else {
                1.0
            }
        })
        .collect();
    let scaled: Vec<Vec<f64>> = rows.iter().map(|r| r.iter().zip(&scale).map(|(v, s)| v / s).collect()).collect();
    let mut best = vec![0.0; cols];
    let mut best_residual = residual(&scaled, y, &best);
    for support in 1..(1_u32 << cols) {
        let picked: Vec<usize> = (0..cols).filter(|j| support & (1 << j) != 0).collect();
        let Some(sub) = least_squares(&scaled, y, &picked) else { continue };
        if sub.iter().any(|v| *v < 0.0) {
            continue;
        }
        let mut x = vec![0.0; cols];
        for (j, v) in picked.iter().zip(sub) {
            x[*j] = v;
        }
        let r = residual(&scaled, y, &x);
        if r < best_residual {
            best_residual = r;
            best = x;
        }
    }
    best.iter().zip(&scale).map(|(x, s)| x / s).collect()
}

fn residual(rows: &[Vec<f64>], y: &[f64], x: &[f64]) -> f64 {
    rows.iter().zip(y).map(|(r, y)| (dot(r, x) - y).powi(2)).sum()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

/// Unconstrained least squares on the columns `picked`, by the normal equations; `None` when
/// they are (nearly) linearly dependent.
fn least_squares(rows: &[Vec<f64>], y: &[f64], picked: &[usize]) -> Option<Vec<f64>> {
    let k = picked.len();
    let mut m = vec![vec![0.0; k + 1]; k];
    for (r, yi) in rows.iter().zip(y) {
        for (a, &ja) in picked.iter().enumerate() {
            for (b, &jb) in picked.iter().enumerate() {
                m[a][b] += r[ja] * r[jb];
            }
            m[a][k] += r[ja] * yi;
        }
    }
    solve(m)
}

/// Gaussian elimination with partial pivoting on an augmented `k × (k+1)` matrix.
fn solve(mut m: Vec<Vec<f64>>) -> Option<Vec<f64>> {
    let k = m.len();
    let size = m.iter().flat_map(|r| r[..k].iter()).fold(0.0_f64, |a, v| a.max(v.abs()));
    for col in 0..k {
        let pivot = (col..k).max_by(|a, b| m[*a][col].abs().total_cmp(&m[*b][col].abs()))?;
        if m[pivot][col].abs() <= 1e-10 * size.max(f64::MIN_POSITIVE) {
            return None;
        }
        m.swap(col, pivot);
        let pivot_row = m[col].clone();
        for (r, row) in m.iter_mut().enumerate() {
            if r != col {
                let f = row[col] / pivot_row[col];
                for (v, p) in row.iter_mut().zip(&pivot_row).skip(col) {
                    *v -= f * p;
                }
            }
        }
    }
    Some((0..k).map(|i| m[i][k] / m[i][i]).collect())
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact zeros are what the clamp promises
mod tests {
    use super::*;

    #[test]
    fn exact_non_negative_data_is_recovered() {
        // y = 2·a + 0·b + 5·c, columns on very different scales.
        let rows: Vec<Vec<f64>> = (1..=6).map(|i| vec![f64::from(i) * 1e9, f64::from(i * i) * 1e6, 1.0]).collect();
        let y: Vec<f64> = rows.iter().map(|r| 2e-9 * r[0] + 5.0 * r[2]).collect();
        let x = nnls(&rows, &y);
        assert!((x[0] - 2e-9).abs() < 1e-15 && x[1].abs() < 1e-15 && (x[2] - 5.0).abs() < 1e-9, "{x:?}");
    }

    #[test]
    fn a_negative_slope_is_clamped_to_zero() {
        // Time falls as the column grows: the best non-negative fit is the constant alone.
        let rows = vec![vec![1.0, 1.0], vec![2.0, 1.0], vec![3.0, 1.0]];
        let y = [3.0, 2.0, 1.0];
        let x = nnls(&rows, &y);
        assert_eq!(x[0], 0.0);
        assert!((x[1] - 2.0).abs() < 1e-12, "{x:?}");
    }

    #[test]
    fn dependent_columns_and_no_rows_still_give_an_answer() {
        let rows = vec![vec![1.0, 2.0], vec![2.0, 4.0]];
        let x = nnls(&rows, &[3.0, 6.0]);
        let fitted: Vec<f64> = rows.iter().map(|r| dot(r, &x)).collect();
        assert!((fitted[0] - 3.0).abs() < 1e-9 && (fitted[1] - 6.0).abs() < 1e-9, "{x:?}");
        assert!(nnls(&[], &[]).is_empty());
    }
}
