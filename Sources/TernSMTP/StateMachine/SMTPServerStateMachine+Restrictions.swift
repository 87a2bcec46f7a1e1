public import TernCore

extension SMTPServerStateMachine {
    /// The answer to `.checkHelo`: the 250 reply, or the rejection (the HELO name and the transaction stay
    /// as they were, as smtpd's helo_cmd leaves them).
    public mutating func heloChecked(_ result: SMTPCheckResult) -> [SMTPServerAction] {
        guard case .checkingHelo(let verb, let name, let transaction) = state else { return unexpected() }
        state = .ready(transaction)
        switch result {
        case .accepted: return helloAccepted(verb, name)
        case .rejected(let reply): return finish(verb, succeeded: false, reply: reply)
        }
    }

    /// The answer to `.checkData`: 354 and the content, or the rejection with the transaction kept.
    public mutating func dataChecked(_ result: SMTPCheckResult) -> [SMTPServerAction] {
        guard case .checkingData(let transaction) = state else { return unexpected() }
        switch result {
        case .accepted: return dataAccepted(transaction)
        case .rejected(let reply):
            state = .ready(transaction)
            return finish(.data, succeeded: false, reply: reply)
        }
    }
}
