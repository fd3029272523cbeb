source("xmr_lib.R")  # packages, seed and the case runner
dirs <- c("increase", "decrease", "neutral")
k <- 0
# 1. plain random normal series with shifts / trends / outliers
for (i in 1:14) {
  n <- sample(10:40, 1)
  y <- round(rnorm(n, 50, 5), sample(0:3, 1))
  kind <- i %% 4
  if (kind == 1) { s <- sample(3:(n - 3), 1); y[s:n] <- y[s:n] + sample(c(-1, 1), 1) * runif(1, 4, 10) }
  if (kind == 2) { s <- sample(1:(n - 8), 1); y[s:(s + 7)] <- sort(y[s:(s + 7)], decreasing = runif(1) < .5) }
  if (kind == 3) { y[sample(n, 2)] <- y[sample(n, 2)] + sample(c(-1, 1), 2, TRUE) * 25 }
  if (kind == 0) { y <- y + seq(0, runif(1, 5, 20), length.out = n) }
  run_case(sprintf("random_%02d_kind%d", i, kind), y, improvement = dirs[(i %% 3) + 1])
}
# 2. targets
for (i in 1:6) {
  n <- sample(15:30, 1); y <- rnorm(n, 100, 10)
  if (i <= 2) y[n - 0:2] <- y[n - 0:2] + 30
  tgt <- c(60, 140, 100, 95, 130, 70)[i]
  run_case(sprintf("target_%02d", i), y, improvement = dirs[(i %% 3) + 1], target = tgt)
}
# 3. target exactly on a limit
y <- c(12, 15, 11, 14, 13, 16, 12, 15, 14, 13, 12, 17, 14, 15, 13)
d <- data.frame(x = as.Date("2020-01-01") + 0:14, y = y)
r <- as.data.frame(suppressWarnings(ptd_spc(d, y, x)))
run_case("target_on_upper", y, "increase", target = r$upl[15])
run_case("target_on_lower", y, "decrease", target = r$lpl[15])
run_case("target_on_upper_decrease", y, "decrease", target = r$upl[15])
run_case("target_neutral", y, "neutral", target = 14)
# 4. rebase points
for (i in 1:5) {
  n <- sample(20:40, 1); y <- rnorm(n, 20, 3)
  rb <- sort(sample(5:(n - 4), sample(1:2, 1)))
  y[rb[1]:n] <- y[rb[1]:n] + sample(c(-6, 6), 1)
  run_case(sprintf("rebase_%02d", i), round(y, 2), improvement = dirs[(i %% 3) + 1],
           rebase_at = rb, target = if (i == 2) 22 else NULL)
}
# 5. fix_after_n_points
for (i in 1:4) {
  n <- sample(30:40, 1); y <- rnorm(n, 0, 1)
  y[15:n] <- y[15:n] + c(2, -2, 1.5, 0)[i]
  fa <- c(12, 15, 20, 12)[i]
  run_case(sprintf("fix_after_%02d", i), y, improvement = dirs[(i %% 3) + 1], fix_after = fa,
           rebase_at = if (i == 4) 25L else integer(0))
}
# 6. screen_outliers = FALSE
for (i in 1:3) {
  n <- sample(12:30, 1); y <- rpois(n, 8); y[sample(n, 1)] <- 40
  run_case(sprintf("unscreened_%02d", i), y, improvement = dirs[i], screen = FALSE)
  run_case(sprintf("screened_%02d", i), y, improvement = dirs[i], screen = TRUE)
}
# 7. flat series, ties and integer data
run_case("flat_screened", rep(10, 20))
run_case("flat_unscreened", rep(10, 20), screen = FALSE)
run_case("flat_with_one_jump", c(rep(5, 15), 9), screen = FALSE)
run_case("flat_with_one_jump_screened", c(rep(5, 15), 9))
run_case("ties_integer", rpois(25, 3), improvement = "decrease")
run_case("ties_integer_2", rpois(30, 1), improvement = "neutral")
run_case("plateau_trend", c(1, 2, 3, 3, 4, 5, 6, 3, 3, 3, 3, 3, 3), screen = FALSE)
run_case("trend_crossing_mean", c(5, 5, 5, 5, 1, 2, 3, 4, 5, 6, 7, 8, 5, 5, 5), improvement = "decrease")
run_case("two_in_three_opposite", c(10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 12, 8, 12, 10, 10, 10))
# 8. short series 1-12 points
for (n in c(1, 2, 3, 5, 6, 7, 8, 10, 12)) {
  run_case(sprintf("short_%02d", n), round(rnorm(n, 10, 2), 1), improvement = dirs[(n %% 3) + 1],
           target = if (n %% 2) 9 else NULL)
}
run_case("short_trend_7", c(1, 2, 3, 4, 5, 6, 7))
run_case("short_trend_7_dec", c(7, 6, 5, 4, 3, 2, 1), improvement = "decrease")
# 9. missing values
for (i in 1:8) {
  n <- sample(15:35, 1); y <- round(rnorm(n, 30, 4), 1)
  y[sample(n, sample(1:3, 1))] <- NA
  if (i %% 2 == 0) { s <- sample(1:(n - 8), 1); y[s:(s + 7)] <- y[s:(s + 7)] + 8 }
  run_case(sprintf("missing_%02d", i), y, improvement = dirs[(i %% 3) + 1],
           rebase_at = if (i == 3) 10L else integer(0), target = if (i == 5) 25 else NULL)
}
run_case("missing_in_shift", c(5, 4, 6, 5, 4, 6, 5, 7, 7, 7, NA, 7, 7, 7, 3, 4, 5), screen = FALSE)
run_case("missing_in_trend", c(5, 5, 5, 1, 2, 3, NA, 5, 6, 7, 8, 5, 5, 5))
run_case("missing_last", c(rnorm(15), NA))
run_case("missing_first", c(NA, rnorm(15)))

e <- readRDS("xmr_edge.rds"); cases <- c(cases, e$cases); skipped <- c(skipped, e$skipped)
cat(length(cases), "cases;", length(skipped), "skipped\n")
for (s in skipped) cat("  skipped", s$name, ":", s$error, "\n")
out <- list(
  generator = "NHSRplotthedots::ptd_spc (reconstructed 0.2.x computation subset)",
  r_version = R.version.string,
  dplyr_version = as.character(packageVersion("dplyr")),
  cases = cases,
  skipped = skipped
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", null = "null", pretty = TRUE, json_verbatim = TRUE),
           "../xmr_nhsrplotthedots.json")
