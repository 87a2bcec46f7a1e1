import Glibc

/// Feeds a child's stdin while collecting what it writes to its output pipes, under one deadline, with
/// poll(2) so that neither side can block the other (a child that writes a lot before reading its input,
/// or one that exits early without reading). Output beyond `cap` bytes per pipe is read and discarded.
struct ProcessPump: MessageSink {
    private var input: Int32
    private var outputs: [Int32]
    private var open: [Bool]
    private let caps: [Int]
    private(set) var collected: [[UInt8]]
    let deadline: Deadline
    /// Set once the deadline passed during a write or a drain.
    private(set) var timedOut = false
    /// errno of the write to stdin that failed (EPIPE: the child stopped reading, which is not an error).
    private(set) var writeError: Int32?

    /// - Parameters:
    ///   - input: the parent's (write) end of the child's stdin pipe; it is made non-blocking.
    ///   - outputs: the parent's (read) ends of the child's output pipes, with the bytes to keep from each.
    init(input: Int32, outputs: [(fd: Int32, cap: Int)], deadline: Deadline) {
        self.input = input
        self.outputs = outputs.map(\.fd)
        self.caps = outputs.map(\.cap)
        self.open = outputs.map { _ in true }
        self.collected = outputs.map { _ in [] }
        self.deadline = deadline
        PipeIO.setNonBlocking(input)
        outputs.forEach { PipeIO.setNonBlocking($0.fd) }
    }

    /// Writes all bytes to the child's stdin; throws EPIPE when the child stopped reading and ETIMEDOUT when
    /// the deadline passed.
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws(SinkError) {
        guard input >= 0 else {
            writeError = EPIPE
            throw SinkError(code: EPIPE)
        }
        var offset = 0
        while offset < bytes.count {
            let n = PipeIO.writeWithoutSIGPIPE(input, bytes.baseAddress! + offset, bytes.count - offset)
            if n >= 0 {
                offset += n
                continue
            }
            let code = errno
            if code == EINTR { continue }
            guard code == EAGAIN || code == EWOULDBLOCK else {
                writeError = code
                throw SinkError(code: code)
            }
            if !pollOnce(wantWrite: true) {
                timedOut = true
                writeError = ETIMEDOUT
                throw SinkError(code: ETIMEDOUT)
            }
        }
    }

    /// Closes the child's stdin so that it sees EOF.
    mutating func closeInput() {
        if input >= 0 {
            close(input)
            input = -1
        }
    }

    /// Reads the output pipes until every one reports EOF or the deadline passes (returns false then).
    mutating func drainOutputs() -> Bool {
        while open.contains(true) {
            if !pollOnce(wantWrite: false) {
                timedOut = true
                return false
            }
        }
        return true
    }

    /// Closes every descriptor still held.
    mutating func closeAll() {
        closeInput()
        for index in outputs.indices where outputs[index] >= 0 {
            close(outputs[index])
            outputs[index] = -1
            open[index] = false
        }
    }

    /// One poll(2) round: reads whatever output is ready. Returns false when the deadline passed before
    /// anything happened; true when stdin became writable (if asked) or output was consumed.
    private mutating func pollOnce(wantWrite: Bool) -> Bool {
        var fds: [pollfd] = []
        var indexes: [Int] = []
        if wantWrite { fds.append(pollfd(fd: input, events: Int16(POLLOUT), revents: 0)) }
        for index in outputs.indices where open[index] {
            fds.append(pollfd(fd: outputs[index], events: Int16(POLLIN), revents: 0))
            indexes.append(index)
        }
        while true {
            let timeout = deadline.remainingMilliseconds
            if timeout == 0 { return false }
            let ready = poll(&fds, nfds_t(fds.count), timeout)
            if ready < 0 {
                if errno == EINTR { continue }
                return false
            }
            if ready == 0 { continue }  // loop re-checks the deadline
            break
        }
        let offset = wantWrite ? 1 : 0
        for (position, index) in indexes.enumerated() where fds[position + offset].revents != 0 {
            readOutput(index)
        }
        return true
    }

    private mutating func readOutput(_ index: Int) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { read(outputs[index], $0.baseAddress, $0.count) }
        if n > 0 {
            let keep = min(n, caps[index] - collected[index].count)
            if keep > 0 { collected[index].append(contentsOf: buffer[..<keep]) }
        } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
            close(outputs[index])
            outputs[index] = -1
            open[index] = false
        }
    }
}
