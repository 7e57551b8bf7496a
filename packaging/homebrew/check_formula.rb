# Structural audit of a Homebrew formula without Homebrew: loads the formula
# against a small stand-in for the Formula DSL, then checks what `brew audit`
# and `brew services` rely on (stanza order, desc rules, the service block,
# the test block) and runs `install`, `post_install` and `test` with every
# command recorded instead of executed.
#
#   ruby packaging/homebrew/check_formula.rb packaging/homebrew/fitbridge.rb

require "pathname"

# A path below a fake prefix that records what is installed into it.
class FakePath
  attr_reader :path

  def initialize(path, log)
    @path = Pathname(path)
    @log = log
  end

  def /(other)
    FakePath.new(@path/other.to_s, @log)
  end

  def to_s
    @path.to_s
  end
  alias to_str to_s

  def install(*args)
    @log << [:install, to_s, args]
  end

  def mkpath
    @log << [:mkpath, to_s]
  end

  def chmod(mode)
    @log << [:chmod, to_s, mode]
  end
end

# Records the settings of a `service do` block.
class FakeService
  attr_reader :settings

  def initialize(formula)
    @formula = formula
    @settings = {}
  end

  [:run, :keep_alive, :working_dir, :log_path, :error_log_path, :environment_variables, :run_type,
   :process_type].each do |name|
    define_method(name) { |value| @settings[name] = value }
  end

  def method_missing(name, *args, &)
    return @formula.public_send(name, *args, &) if @formula.respond_to?(name)

    super
  end

  def respond_to_missing?(name, include_private = false)
    @formula.respond_to?(name) || super
  end
end

# A resource whose `stage` just runs the block.
class FakeResource
  def initialize(log, name)
    @log = log
    @name = name
  end

  def stage
    @log << [:stage, @name]
    yield
  end
end

# The stand-in for Homebrew's Formula class.
class Formula
  class << self
    attr_reader :stanzas, :service_block, :test_block, :resources

    def inherited(subclass)
      super
      subclass.instance_variable_set(:@stanzas, [])
      subclass.instance_variable_set(:@resources, {})
      (@subclasses ||= []) << subclass
    end

    def loaded
      @subclasses || []
    end

    def record(name, args)
      @stanzas << [name, args, caller_locations(2, 1).first.lineno]
    end

    [:desc, :homepage, :url, :mirror, :version, :sha256, :license, :head, :depends_on,
     :uses_from_macos, :livecheck, :bottle, :keg_only, :conflicts_with].each do |name|
      define_method(name) { |*args, **kwargs| record(name, args + (kwargs.empty? ? [] : [kwargs])) }
    end

    def resource(name, &block)
      record(:resource, [name])
      @resources[name] = block
    end

    def service(&block)
      record(:service, [])
      @service_block = block
    end

    def test(&block)
      record(:test, [])
      @test_block = block
    end
  end

  attr_reader :log

  PREFIX = "/opt/homebrew".freeze

  def initialize
    @log = []
  end

  def name
    self.class.name.gsub(/([a-z])([A-Z])/, "\\1-\\2").downcase
  end

  def path(*parts)
    FakePath.new(File.join(PREFIX, *parts), @log)
  end

  def prefix = path("Cellar", name, "HEAD")
  def bin = prefix/"bin"
  def doc = prefix/"share/doc"/name
  def man1 = prefix/"share/man/man1"
  def opt_bin = path("opt", name, "bin")
  def etc = path("etc")
  def var = path("var")
  def buildpath = path("tmp/build")
  def testpath = path("tmp/test")

  def std_cmake_args(install_prefix: prefix)
    ["-DCMAKE_INSTALL_PREFIX=#{install_prefix}", "-DCMAKE_BUILD_TYPE=Release"]
  end

  def resource(name)
    raise "resource #{name} is not declared" unless self.class.resources.key?(name)

    FakeResource.new(@log, name)
  end

  def system(*args)
    @log << [:system, args.map(&:to_s)]
    true
  end

  def shell_output(command, _status = 0)
    @log << [:shell_output, command.to_s]
    "fitbridge 0.0.0"
  end

  def assert_match(expected, actual)
    raise "assert_match: #{expected.inspect} not in #{actual.inspect}" unless actual.match?(expected)
  end

  def version = "HEAD"
end

# The checks; each failure is one line.
class FormulaCheck
  # The order `brew style` (FormulaAudit/ComponentsOrder) expects.
  ORDER = [:desc, :homepage, :url, :mirror, :version, :sha256, :license, :head, :livecheck,
           :bottle, :keg_only, :depends_on, :uses_from_macos, :conflicts_with, :resource].freeze

  attr_reader :errors

  def initialize(file)
    @file = file
    @errors = []
  end

  def run
    load @file
    klass = Formula.loaded.last
    return fail!("no Formula subclass in #{@file}") if klass.nil?

    check_name(klass)
    check_stanzas(klass)
    check_method_order(klass)
    formula = klass.new
    check_install(formula)
    check_service(klass, formula)
    check_test(klass, formula)
    @errors.empty?
  end

  private

  def fail!(message)
    @errors << message
    false
  end

  def check_name(klass)
    expected = File.basename(@file, ".rb").split("-").map(&:capitalize).join
    fail!("class #{klass.name} should be #{expected} (from the file name)") if klass.name != expected
  end

  def stanza(klass, name)
    klass.stanzas.find { |s| s.first == name }
  end

  def check_stanzas(klass)
    desc = stanza(klass, :desc)&.dig(1, 0).to_s
    fail!("desc is missing") if desc.empty?
    fail!("desc is longer than 80 characters") if desc.length > 80
    fail!("desc starts with an article") if desc.match?(/\A(a|an|the)\s/i)
    fail!("desc starts with the formula name") if desc.downcase.start_with?(File.basename(@file, ".rb"))
    fail!("desc ends with a full stop") if desc.end_with?(".")

    homepage = stanza(klass, :homepage)&.dig(1, 0).to_s
    fail!("homepage must be an https URL") unless homepage.start_with?("https://")

    has_stable = stanza(klass, :url) && stanza(klass, :sha256)
    fail!("needs url + sha256, or head") unless has_stable || stanza(klass, :head)
    fail!("url without sha256") if stanza(klass, :url) && !stanza(klass, :sha256) &&
                                   !stanza(klass, :url)[1].last.is_a?(Hash)

    ranks = klass.stanzas.filter_map { |name, _, line| [ORDER.index(name), name, line] if ORDER.include?(name) }
    ranks.each_cons(2) do |(a, name_a, line_a), (b, name_b, line_b)|
      fail!("#{name_b} (line #{line_b}) should come before #{name_a} (line #{line_a})") if b < a
    end
  end

  def check_method_order(klass)
    lines = [:install, :post_install, :caveats].filter_map do |name|
      [name, klass.instance_method(name).source_location[1]] if klass.method_defined?(name, false)
    end
    fail!("def install is missing") unless lines.assoc(:install)
    lines.each_cons(2) do |(a, la), (b, lb)|
      fail!("def #{b} should come after def #{a}") if lb < la
    end
    last_method = lines.map(&:last).max || 0
    [:service, :test].each do |name|
      line = stanza(klass, name)&.last
      fail!("#{name} block is missing") if line.nil?
      fail!("#{name} block should come after the methods") if line && line < last_method
    end
    service = stanza(klass, :service)&.last
    test = stanza(klass, :test)&.last
    fail!("service block should come before test") if service && test && test < service
  end

  def check_install(formula)
    formula.install
    formula.post_install if formula.respond_to?(:post_install)
    systems = formula.log.select { |e| e.first == :system }.map(&:last)
    fail!("install does not run cmake --install") unless systems.any? { |a| a.first(2) == ["cmake", "--install"] }
    etc_config = formula.log.any? do |kind, dir, args|
      kind == :install && dir.end_with?("/etc/fitbridge") && args.to_s.include?("fitbridge.yaml")
    end
    fail!("install does not put fitbridge.yaml under etc/fitbridge") unless etc_config
    state = formula.log.any? { |kind, dir| kind == :mkpath && dir.end_with?("/var/fitbridge") }
    fail!("post_install does not create var/fitbridge") unless state
  end

  def check_service(klass, formula)
    return if klass.service_block.nil?

    service = FakeService.new(formula)
    service.instance_eval(&klass.service_block)
    settings = service.settings
    run = Array(settings[:run]).map(&:to_s)
    fail!("service runs #{run.inspect}, not opt_bin/fitbridge serve") if run.first(2) != [
      "#{Formula::PREFIX}/opt/fitbridge/bin/fitbridge", "serve"
    ]
    fail!("service: keep_alive must be set") unless settings[:keep_alive]
    [:log_path, :error_log_path].each do |key|
      unless settings[key].to_s.start_with?("#{Formula::PREFIX}/var/log/")
        fail!("service: #{key} must be under var/log")
      end
    end
    config = run.each_cons(2).find { |flag, _| flag == "--config" }&.last.to_s
    unless config.start_with?("#{Formula::PREFIX}/etc/fitbridge/")
      fail!("service: --config must be under etc/fitbridge")
    end
    state = run.each_cons(2).find { |flag, _| flag == "--state-dir" }&.last.to_s
    fail!("service: --state-dir must be var/fitbridge") if state != "#{Formula::PREFIX}/var/fitbridge"
  end

  def check_test(klass, formula)
    return if klass.test_block.nil?

    formula.log.clear
    formula.instance_eval(&klass.test_block)
    commands = formula.log.map { |e| Array(e.last).join(" ") }
    fail!("test does not run fitbridge --version") unless commands.any? { |c| c.include?("fitbridge --version") }
    check = commands.any? { |c| c.match?(/fitbridge config check \S*fitbridge\.example\.yaml/) }
    fail!("test does not run fitbridge config check on the example config") unless check
  end
end

abort "usage: #{$PROGRAM_NAME} FORMULA.rb" if ARGV.length != 1
check = FormulaCheck.new(ARGV.first)
if check.run
  puts "#{ARGV.first}: formula structure OK"
else
  check.errors.each { |e| warn "#{ARGV.first}: #{e}" }
  exit 1
end
