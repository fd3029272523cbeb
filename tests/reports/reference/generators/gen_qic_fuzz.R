source("qic_lib.R")
set.seed(99)
# targeted edge cases
run_case("p_all_zero", "p", rep(0, 12), rep(50, 12))
run_case("p_all_one", "p", rep(50, 12), rep(50, 12))
run_case("pp_all_zero", "pp", rep(0, 12), rep(50, 12))
run_case("p_num_equals_den_once", "p", c(rbinom(14, 40, .3), 40), rep(40, 15))
run_case("run_freeze_missing", "run", c(5, NA, 7, 3, 4, 8, 6, 5, 9, 10, 11, 12, 13, 14), freeze = 6)
run_case("run_freeze_with_part_ignored", "run", round(rnorm(24), 1), part = 12, freeze = 6)
run_case("c_freeze_part_ignored", "c", rpois(24, 5), part = 10, freeze = 5)
run_case("u_zero_count_zero_exposure", "u", c(rpois(9, 4), 0, rpois(6, 4)), c(rep(100, 9), 0, rep(100, 6)))
run_case("run_part_at_end", "run", round(rnorm(15), 1), part = 14)
run_case("run_one_point", "run", 5)
run_case("c_all_zero", "c", rep(0, 12))
run_case("pp_constant_z", "pp", rep(10, 15), rep(100, 15))
run_case("up_freeze_missing", "up", replace(rpois(20, 300), 3, NA), round(runif(20, 9000, 11000)), freeze = 10)
run_case("run_freeze_beyond_n", "run", round(rnorm(15), 1), freeze = 40)
run_case("c_freeze_beyond_n", "c", rpois(15, 4), freeze = 40)
run_case("run_part_all_missing", "run", c(round(rnorm(10), 1), NA, NA, NA), part = 10)
run_case("p_part_all_missing", "p", c(rbinom(10, 50, .3), NA, NA, NA), rep(50, 13), part = 10)
run_case("pp_part_all_missing", "pp", c(rbinom(10, 5000, .3), NA, NA, NA), rep(5000, 13), part = 10)
run_case("c_part_all_missing", "c", c(rpois(10, 3), NA, NA, NA), part = 10)
run_case("u_part_one_point", "u", rpois(13, 20), rep(100, 13), part = 12)
charts <- c("run", "p", "pp", "u", "up", "c")
for (i in 1:150) {
  chart <- sample(charts, 1)
  m <- sample(c(3:11, rep(12:40, 3)), 1)
  n <- NULL
  if (chart == "run") {
    y <- switch(sample(1:3, 1), round(rnorm(m, 10, 3), 1), rpois(m, 3), cumsum(rnorm(m)))
  } else if (chart %in% c("p", "pp")) {
    n <- if (chart == "p") sample(5:300, m, TRUE) else sample(1000:30000, m, TRUE)
    pr <- plogis(rnorm(m, qlogis(runif(1, .02, .5)), if (chart == "pp") .2 else 0))
    y <- rbinom(m, n, pr)
  } else if (chart %in% c("u", "up")) {
    n <- if (chart == "u") round(runif(m, 10, 500), sample(0:1, 1)) else round(runif(m, 5000, 80000))
    y <- rpois(m, n * exp(rnorm(m, log(runif(1, .005, .1)), if (chart == "up") .25 else 0)))
  } else {
    y <- rpois(m, runif(1, .5, 25))
  }
  if (runif(1) < .15 && m > 6) { k <- sample(m, 1); y[k] <- if (is.null(n)) y[k] * 3 + 5 else min(n[k], y[k] * 3 + 5) }
  if (runif(1) < .25 && m > 4) {
    k <- sample(m, sample(1:2, 1)); if (!is.null(n) && runif(1) < .5) n[k] <- NA else y[k] <- NA
  }
  part <- if (runif(1) < .3 && m > 8) sort(sample(3:(m - 2), sample(1:2, 1))) else NULL
  if (!is.null(part)) part <- unique(part)
  freeze <- if (is.null(part) && runif(1) < .3 && m > 6) sample(3:(m - 1), 1) else NULL
  run_case(sprintf("fuzz_%03d_%s", i, chart), chart, y, n, part = part, freeze = freeze,
           screened = if (chart %in% c("pp", "up")) runif(1) < .75 else TRUE)
}
cat(length(cases), "cases;", length(skipped), "skipped\n")
for (s in skipped) cat("  skipped", s$name, ":", substr(s$error, 1, 100), "\n")
out <- list(generator = "qicharts2::qic (0.8.1 computation subset, data as return.data = TRUE), edge and random cases",
            r_version = R.version.string, qic.screenedmr_default_after_library = TRUE,
            cases = cases, skipped = skipped)
writeLines(toJSON(out, auto_unbox = TRUE, na = "null", null = "null", json_verbatim = TRUE),
           "../qic_qicharts2_random.json")
