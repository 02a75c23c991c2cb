import ParleyCarriers
import ParleyCore
import ParleyProtocol
import Testing

@testable import ParleyCarriers

@Suite("Twilio: signatures, forms, statuses and answers")
struct TwilioMappingTests {
    let signer = TwilioSignature(authToken: "12345")
    let parameters = [("To", "+18005551212"), ("From", "+12349013030"), ("Body", "Hi")]

    @Test("a signature holds for its URL and parameters in any order, and for nothing else")
    func signatureRoundTrip() {
        let url = "https://sms.example.com/twilio/sms"
        let signature = signer.signature(url: url, parameters: parameters)
        #expect(signer.isValid(signature, url: url, parameters: parameters.reversed()))
        #expect(!signer.isValid(signature, url: url + "x", parameters: parameters))
        #expect(!signer.isValid(signature, url: url, parameters: parameters + [("NumMedia", "0")]))
        #expect(!signer.isValid(signature, url: url, parameters: [("To", "+18005551212"), ("From", "+12349013030")]))
        #expect(!TwilioSignature(authToken: "54321").isValid(signature, url: url, parameters: parameters))
        #expect(!signer.isValid("not base64!", url: url, parameters: parameters))
        #expect(!signer.isValid("", url: url, parameters: parameters))
    }

    @Test("a URL is accepted with and without its default port, never with another")
    func defaultPorts() {
        let signedWithPort = signer.signature(url: "https://sms.example.com:443/twilio/sms?a=1", parameters: parameters)
        #expect(signer.isValid(signedWithPort, url: "https://sms.example.com/twilio/sms?a=1", parameters: parameters))
        let signedWithout = signer.signature(url: "http://sms.example.com/twilio/sms", parameters: parameters)
        #expect(signer.isValid(signedWithout, url: "http://sms.example.com:80/twilio/sms", parameters: parameters))
        let otherPort = signer.signature(url: "https://sms.example.com:8443/twilio/sms", parameters: parameters)
        #expect(!signer.isValid(otherPort, url: "https://sms.example.com/twilio/sms", parameters: parameters))
        #expect(TwilioSignature.portVariants("https://[::1]:443/x") == ["https://[::1]:443/x", "https://[::1]/x"])
        #expect(TwilioSignature.portVariants("https://h") == ["https://h", "https://h:443"])
    }

    @Test("names and values are signed sorted by code point, as Twilio's helpers sort them")
    func sortOrder() {
        // "Z" (U+005A) before "a" (U+0061); "é" after both.
        let signed = TwilioSignature.signed("u", [("a", "2"), ("é", "3"), ("Z", "1"), ("a", "1")])
        #expect(String(decoding: signed, as: UTF8.self) == "uZ1a1a2é3")
    }

    @Test("a form body decodes + as a space and %XX as bytes, and refuses a broken escape")
    func form() throws {
        let pairs = try #require(TwilioForm.decode("Body=Hi+there%21%F0%9F%98%80&From=%2B1555&Empty="))
        #expect(pairs.map(\.0) == ["Body", "From", "Empty"])
        #expect(pairs.map(\.1) == ["Hi there!😀", "+1555", ""])
        #expect(TwilioForm.decode("Body=%G1") == nil)
        #expect(TwilioForm.decode(TwilioForm.encode([("Body", "a+b & c=d ☃")]))?.first?.1 == "a+b & c=d ☃")
    }

    @Test("MessageStatus: sent, delivered, undelivered and failed move the message; the steps before do not")
    func statuses() {
        #expect(TwilioStatus.status("sent") == .sent)
        #expect(TwilioStatus.status("delivered") == .delivered)
        #expect(TwilioStatus.status("read") == .delivered)
        #expect(TwilioStatus.status("undelivered") == .undelivered)
        #expect(TwilioStatus.status("failed") == .failed)
        #expect(TwilioStatus.status("canceled") == .failed)
        for step in ["accepted", "scheduled", "queued", "sending", "receiving", "received", "bogus"] {
            #expect(TwilioStatus.status(step) == nil, "\(step)")
        }
    }

    @Test("an inbound webhook: its media become attachments; missing fields are refused")
    func inbound() throws {
        let message = try TwilioInbound(parameters: [
            ("From", "+15557654321"), ("To", "+15550100100"), ("Body", "Look"), ("MessageSid", "MM1"),
            ("NumMedia", "1"), ("MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"),
            ("MediaContentType0", "image/jpeg"),
        ])
        let attachment = try #require(message.params["attachments"]?.array?.first)
        #expect(attachment["name"]?.string == "ME1")
        #expect(attachment["contentType"]?.string == "image/jpeg")
        #expect(message.params["idempotencyKey"]?.string == "twilio:MM1")
        #expect(throws: TwilioInbound.Unreadable.self) {
            try TwilioInbound(parameters: [("From", "+1"), ("To", "+2"), ("MessageSid", "SM1"), ("NumMedia", "2")])
        }
        #expect(throws: TwilioInbound.Unreadable.self) {
            try TwilioInbound(parameters: [("From", "+1"), ("To", "+2")])
        }
    }

    @Test("the Messages API's answers: 201 accepts, a refusal of the message fails it, the rest is retried")
    func answers() {
        #expect(
            TwilioConnector.answer(status: 201, body: Array(#"{"sid":"SM1","status":"queued"}"#.utf8))
                == .accepted(reference: "SM1"))
        let invalid = Array(
            #"{"code":21211,"message":"The 'To' number is not a valid phone number.","status":400}"#.utf8)
        #expect(
            TwilioConnector.answer(status: 400, body: invalid)
                == .refused("Twilio answered HTTP 400, error 21211: The 'To' number is not a valid phone number."))
        for status in [401, 403, 429, 500, 503] {
            guard case .unavailable = TwilioConnector.answer(status: status, body: []) else {
                Issue.record("HTTP \(status) is retried")
                continue
            }
        }
        guard case .unavailable = TwilioConnector.answer(status: 201, body: Array("{}".utf8)) else {
            Issue.record("a 201 without a sid is retried")
            return
        }
    }
}
