# Homebrew formula for FitBridge. It lives in a tap (Formula/fitbridge.rb);
# docs/install.md has the commands. Until the project tags releases the
# formula builds the main branch (`brew install --HEAD`); a release adds
# `url` and `sha256` above `head`.
class Fitbridge < Formula
  desc "Sync daemon keeping workouts flowing between fitness platforms and folders"
  homepage "https://github.com/fitbridge/fitbridge"
  head "https://github.com/fitbridge/fitbridge.git", branch: "main"

  depends_on "cmake" => :build
  depends_on "rapidjson" => :build
  depends_on "boost"
  depends_on "fmt"
  depends_on "libzip"
  depends_on "openssl@3"
  depends_on "pugixml"
  depends_on "yaml-cpp"

  uses_from_macos "expat"
  uses_from_macos "sqlite"
  uses_from_macos "zlib"

  # SQLiteC++ has no formula of its own; it is built into the buildpath.
  resource "sqlitecpp" do
    url "https://github.com/SRombauts/SQLiteCpp.git", tag: "3.2.1"
  end

  def install
    vendor = buildpath/"vendor"
    resource("sqlitecpp").stage do
      system "cmake", "-S", ".", "-B", "build",
             "-DSQLITECPP_INTERNAL_SQLITE=OFF",
             "-DSQLITECPP_RUN_CPPLINT=OFF",
             "-DSQLITECPP_RUN_CPPCHECK=OFF",
             "-DSQLITECPP_BUILD_TESTS=OFF",
             "-DSQLITECPP_BUILD_EXAMPLES=OFF",
             *std_cmake_args(install_prefix: vendor)
      system "cmake", "--build", "build"
      system "cmake", "--install", "build"
    end

    args = %W[
      -DFITBRIDGE_BUILD_TESTS=OFF
      -DFITBRIDGE_BUILD_BENCH=OFF
      -DCMAKE_PREFIX_PATH=#{vendor}
    ]
    system "cmake", "-S", ".", "-B", "build", *args, *std_cmake_args
    system "cmake", "--build", "build", "--target", "fitbridge"
    system "cmake", "--install", "build"

    # Homebrew keeps an edited etc file on upgrade (the new one lands next to
    # it as fitbridge.yaml.default).
    (etc/"fitbridge").install "config/fitbridge.example.yaml" => "fitbridge.yaml"
  end

  def post_install
    (var/"fitbridge").mkpath
    (var/"fitbridge").chmod 0700
    (var/"log").mkpath
  end

  def caveats
    <<~EOS
      Configuration: #{etc}/fitbridge/fitbridge.yaml
      State (database, fetched files, API token): #{var}/fitbridge
      Log: #{var}/log/fitbridge.log
      After editing the configuration: brew services restart fitbridge
    EOS
  end

  service do
    run [opt_bin/"fitbridge", "serve",
         "--config", etc/"fitbridge/fitbridge.yaml",
         "--state-dir", var/"fitbridge"]
    keep_alive true
    working_dir var/"fitbridge"
    log_path var/"log/fitbridge.log"
    error_log_path var/"log/fitbridge.log"
  end

  test do
    assert_match "fitbridge", shell_output("#{bin}/fitbridge --version")
    ENV["XDG_STATE_HOME"] = testpath/"state"
    system bin/"fitbridge", "config", "check", doc/"fitbridge.example.yaml"
  end
end
