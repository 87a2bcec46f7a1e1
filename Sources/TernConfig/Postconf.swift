import TernCore

/// postconf(1): show and edit main.cf and master.cf. `run` reads (and for `-e`/`-#`/`-X` rewrites)
/// the files; everything else is pure. Output matches Postfix 3.7's text (`name = value` lines sorted
/// by name, `name =` for an empty value, warnings on stderr after the output).
public enum Postconf {
    /// Runs postconf with `arguments` (without the program name). `MAIL_CONFIG` in `environment`
    /// selects the configuration directory unless `-c` does.
    public static func run(arguments: [String], environment: [String: String]) -> PostconfOutput {
        let options: PostconfOptions
        switch PostconfOptions.parse(arguments) {
        case .success(let parsed): options = parsed
        case .failure(let failure): return PostconfOutput(stderr: failure.lines, exitCode: 1)
        }
        let directory = MainConfig.directory(cli: options.configDirectory, environment: environment)
        let mainPath = directory + "/main.cf"
        let masterPath = directory + "/master.cf"
        do throws(FileError) {
            switch options.mode {
            case .edit, .commentOut, .remove:
                let text = try ConfigFile.read(mainPath)
                let result = edit(options, text: text, file: mainPath)
                if let newText = result.newText { try ConfigFile.replace(mainPath, with: newText) }
                return result.output
            case .parameters, .masterEntries, .masterParameters:
                let mainText = options.defaults && options.mode == .parameters ? nil : try ConfigFile.read(mainPath)
                var masterText: String?
                var warnings: [String] = []
                do throws(FileError) {
                    masterText = try ConfigFile.read(masterPath)
                } catch {
                    if options.mode != .parameters { throw error }
                    warnings.append("postconf: warning: \(error.message)")
                }
                var output = show(options, directory: directory, mainText: mainText, masterText: masterText)
                output.stderr = warnings + output.stderr
                return output
            }
        } catch {
            return PostconfOutput(stderr: ["postconf: fatal: \(error.message)"], exitCode: 1)
        }
    }

    /// `-e`, `-#`, `-X` on main.cf text: the output and the new text (nil when nothing is written).
    static func edit(_ options: PostconfOptions, text: String, file: String) -> (output: PostconfOutput, newText: String?) {
        let edit: MainCFEditor.Edit
        switch options.mode {
        case .edit:
            var pairs: [(name: String, value: String)] = []
            for operand in options.operands {
                switch NameValue.split(operand) {
                case .success(let pair): pairs.append(pair)
                case .failure(let error):
                    return (PostconfOutput(stderr: ["postconf: fatal: \(error.text): \"\(operand)\""], exitCode: 1), nil)
                }
            }
            edit = .set(pairs)
        case .commentOut: edit = .commentOut(options.operands)
        default: edit = .remove(options.operands)
        }
        let result = MainCFEditor.apply(edit, to: text, file: file)
        return (PostconfOutput(stderr: result.warnings.map { "postconf: warning: " + $0 }), result.text)
    }

    /// Everything that only reads: parameters (`-d`, `-n`, `-x`, `-h`, `-H`, names), `-M` and `-P`.
    /// `mainText` is nil for `-d` (defaults only); `masterText` nil when master.cf could not be read.
    static func show(_ options: PostconfOptions, directory: String, mainText: String?, masterText: String?)
        -> PostconfOutput
    {
        var output = PostconfOutput()
        let main: MainConfig
        let master: MasterConfig?
        do throws(FileError) {
            if let mainText {
                main = try MainConfig.parse(text: mainText, directory: directory)
                    .overriding(Dictionary(options.overrides.map { ($0.name, $0.value) }) { $1 })
            } else {
                main = MainConfig(directory: MainConfig.defaultDirectory, entries: [], parseWarnings: [])
            }
            if let masterText {
                master = try MasterConfig.parse(text: masterText, file: directory + "/master.cf")
            } else {
                master = nil
            }
        } catch {
            let text = error.file.hasSuffix("master.cf") ? MasterConfig.postconfText(error) : error.description
            return PostconfOutput(stderr: ["postconf: fatal: \(text)"], exitCode: 1)
        }
        let usage = ParameterUsage(main: main, master: master)
        output.stderr += main.parseWarnings.map { "postconf: warning: " + $0 }
        output.stderr += (master?.parseWarnings ?? []).map { "postconf: warning: " + $0 }
        switch options.mode {
        case .masterEntries:
            PostconfReport.masterEntries(options, main: main, master: master, into: &output)
        case .masterParameters:
            PostconfReport.masterParameters(options, main: main, master: master, into: &output)
        default:
            PostconfReport.parameters(options, main: main, usage: usage, into: &output)
        }
        if !options.defaults, output.exitCode == 0 {
            output.stderr += usage.warnings.map { "postconf: warning: " + $0 }
        }
        return output
    }
}
