source("qic_lib.R")  # packages, seed and the case runner
# run charts
for (i in 1:6) {
  m <- sample(12:40, 1)
  y <- if (i %% 2) round(rnorm(m, 10, 2), 1) else rpois(m, 4)
  if (i == 3) y[15:m] <- y[15:m] + 3
  run_case(sprintf("run_%02d", i), "run", y)
}
run_case("run_part", "run", c(rpois(15, 5), rpois(15, 9)), part = 15)
run_case("run_two_parts", "run", round(rnorm(36), 2), part = c(12, 24))
run_case("run_freeze", "run", c(rnorm(12), rnorm(12, 1.5)), freeze = 12)
run_case("run_missing", "run", c(3, 5, NA, 4, 6, 7, NA, 2, 5, 5, 8, 9, 6, 4, 3, 7, 8, 9, 9, 10))
run_case("run_all_on_median", "run", rep(4, 12))
run_case("run_long_run", "run", c(1:5, rep(20, 10), 1:5))
run_case("run_short", "run", c(3, 1, 2))
# p charts
for (i in 1:5) {
  m <- sample(15:30, 1); den <- sample(20:200, m, TRUE)
  num <- rbinom(m, den, 0.2 + if (i == 2) 0 else 0)
  if (i == 3) num[m] <- round(den[m] * 0.6)
  run_case(sprintf("p_%02d", i), "p", num, den)
}
den <- sample(50:150, 24, TRUE); num <- rbinom(24, den, rep(c(.1, .25), each = 12))
run_case("p_part", "p", num, den, part = 12)
run_case("p_freeze", "p", num, den, freeze = 12)
num2 <- num; den2 <- den; num2[c(5, 17)] <- NA; den2[9] <- NA
run_case("p_missing", "p", num2, den2)
num3 <- num; den3 <- den; num3[7] <- 0; den3[7] <- 0
run_case("p_zero_denominator", "p", num3, den3)
run_case("p_small_n_clip", "p", c(0, 1, 0, 2, 5, 0, 1, 1, 0, 4, 1, 0), rep(5, 12))
# Laney P'
for (i in 1:4) {
  m <- sample(15:30, 1); den <- sample(2000:20000, m, TRUE)
  p <- plogis(rnorm(m, qlogis(0.1), 0.15))
  num <- rbinom(m, den, p)
  if (i == 2) num[4] <- round(den[4] * 0.3)
  run_case(sprintf("pp_%02d", i), "pp", num, den)
  if (i <= 2) run_case(sprintf("pp_%02d_unscreened", i), "pp", num, den, screened = FALSE)
}
den <- sample(2000:9000, 30, TRUE); num <- rbinom(30, den, plogis(rnorm(30, qlogis(.2), .1)))
run_case("pp_part", "pp", num, den, part = 15)
run_case("pp_freeze", "pp", num, den, freeze = 18)
num[c(6, 20)] <- NA
run_case("pp_missing", "pp", num, den)
# u charts
for (i in 1:4) {
  m <- sample(15:30, 1); ex <- round(runif(m, 50, 500), 1)
  cnt <- rpois(m, ex * 0.05)
  if (i == 2) cnt[m - 1] <- cnt[m - 1] * 3
  run_case(sprintf("u_%02d", i), "u", cnt, ex)
}
ex <- round(runif(24, 100, 300)); cnt <- rpois(24, ex * rep(c(.03, .06), each = 12))
run_case("u_part", "u", cnt, ex, part = 12)
run_case("u_freeze", "u", cnt, ex, freeze = 10)
cnt2 <- cnt; cnt2[c(3, 15)] <- NA
run_case("u_missing", "u", cnt2, ex)
# Laney U'
for (i in 1:3) {
  m <- sample(15:30, 1); ex <- round(runif(m, 5000, 50000))
  cnt <- rpois(m, ex * exp(rnorm(m, log(0.01), 0.2)))
  run_case(sprintf("up_%02d", i), "up", cnt, ex)
  if (i == 1) run_case("up_01_unscreened", "up", cnt, ex, screened = FALSE)
}
run_case("up_part_missing", "up", replace(cnt, 5, NA), ex, part = 8)
# c charts
for (i in 1:4) {
  m <- sample(12:30, 1); cnt <- rpois(m, c(2, 8, 20, 0.5)[i])
  if (i == 2) cnt[m] <- 25
  run_case(sprintf("c_%02d", i), "c", cnt)
}
cnt <- c(rpois(12, 6), rpois(12, 12))
run_case("c_part", "c", cnt, part = 12)
run_case("c_freeze", "c", cnt, freeze = 12)
run_case("c_missing", "c", replace(cnt, c(4, 18), NA))

cat(length(cases), "cases;", length(skipped), "skipped\n")
for (s in skipped) cat("  skipped", s$name, ":", s$error, "\n")
out <- list(generator = "qicharts2::qic (0.8.1 computation subset, data as return.data = TRUE)",
            r_version = R.version.string, qic.screenedmr_default_after_library = TRUE,
            cases = cases, skipped = skipped)
writeLines(toJSON(out, auto_unbox = TRUE, na = "null", null = "null", pretty = TRUE, json_verbatim = TRUE),
           "../qic_qicharts2.json")
